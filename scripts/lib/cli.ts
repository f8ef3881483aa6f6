import { parseArgs } from "node:util";

/** A mistake in how a tool was called or configured: reported in one line, exit code 2. */
export class UsageError extends Error {}

/** Reads a whole number ≥ `min` from a command-line flag, or says which flag is wrong and why. */
export function wholeNumberFlag(flag: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new UsageError(`--${flag} must be a whole number ≥ ${min}, got "${value}"`);
  }
  return parsed;
}

/**
 * Runs a tool's main function and turns its result into the process exit code: the number it
 * returns, 2 for a usage error (message only), 1 for anything unexpected (with the stack).
 */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`error: ${error.message}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
        process.exitCode = 1;
      }
    },
  );
}

type FlagValues<T extends Record<string, { type: "string" | "boolean" }>> = {
  [K in keyof T]?: T[K]["type"] extends "string" ? string : boolean;
};

/**
 * Parses `--flag value` options; prints `usage` and returns undefined for --help. An unknown or
 * malformed flag is a UsageError that shows the usage.
 */
export function parseFlags<const T extends Record<string, { type: "string" | "boolean" }>>(
  usage: string,
  options: T,
  args: readonly string[] = process.argv.slice(2),
): FlagValues<T> | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { ...options, help: { type: "boolean" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(`${(error as Error).message}\n\n${usage}`);
    }
    throw error;
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return values as FlagValues<T>;
}
