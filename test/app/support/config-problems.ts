import { ServiceConfigError, loadConfig } from "../../../app/platform/config";

/** The problems loadConfig reports for `env` (fails the test when it accepts it). */
export function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ServiceConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected a ServiceConfigError");
}
