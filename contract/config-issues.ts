/**
 * Problem lines for configuration issues, shared by the service (environment variables) and the stacks (tfvars), so
 * both name a bad key the same way. Imports nothing: the service and the stacks each bring their own zod, and a zod
 * issue fits {@link ConfigIssue} as it is.
 */

/** What a zod issue has in common with any other: where in the input, and what is wrong or allowed there. */
export interface ConfigIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export interface FormatIssuesOptions {
  /**
   * The value the input holds at an issue's path. With it, a line reads `key = value: expected message` (the message
   * says what is allowed); without it, `key message` (the message says what is wrong, such as "is required").
   */
  readonly valueAt?: (path: readonly PropertyKey[]) => unknown;
}

/** A key path as the input spells it: `sale_windows[1].ends_at`, `state_backend.prefix`. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, segment) => (typeof segment === "number" ? `${text}[${segment}]` : text ? `${text}.${String(segment)}` : String(segment)),
    "",
  );
}

/** One line per issue, in the order given. */
export function formatIssues(issues: readonly ConfigIssue[], options: FormatIssuesOptions = {}): string[] {
  const { valueAt } = options;
  return issues.map((issue) => {
    const key = keyPath(issue.path);
    if (!valueAt) return key ? `${key} ${issue.message}` : issue.message;
    const value = valueAt(issue.path);
    const shown = value === undefined ? "(missing)" : JSON.stringify(value);
    return `${key} = ${shown}: expected ${issue.message}`;
  });
}
