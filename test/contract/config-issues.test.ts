import { readFile } from "node:fs/promises";
import { z } from "zod";
import { formatIssues, keyPath } from "../../contract/config-issues";

/** The value at a path of a plain object, as the stacks look it up in a parsed tfvars file. */
function valueIn(input: unknown) {
  return (path: readonly PropertyKey[]) =>
    path.reduce<unknown>((value, segment) => (value as Record<PropertyKey, unknown> | undefined)?.[segment], input);
}

describe("config issues", () => {
  test("a key path names list items by index and object keys by dot", () => {
    expect(keyPath(["sale_windows", 1, "ends_at"])).toBe("sale_windows[1].ends_at");
    expect(keyPath(["a", "b"])).toBe("a.b");
    expect(keyPath(["zones", 0])).toBe("zones[0]");
    expect(keyPath([])).toBe("");
  });

  test("without values, a line is the key followed by what is wrong", () => {
    expect(
      formatIssues([
        { path: ["REDIS_URL"], message: "is required" },
        { path: [], message: "no variables at all" },
      ]),
    ).toEqual(["REDIS_URL is required", "no variables at all"]);
  });

  test("with values, a line shows the key, its value (or that it is missing) and what is expected", () => {
    expect(
      formatIssues(
        [
          { path: ["tags", "team"], message: "a string" },
          { path: ["zones"], message: "a list of 2 or 3 zone ids" },
          { path: ["region"], message: "a region id" },
        ],
        { valueAt: valueIn({ tags: { team: 7 }, zones: ["cn-hangzhou-j"] }) },
      ),
    ).toEqual([
      "tags.team = 7: expected a string",
      'zones = ["cn-hangzhou-j"]: expected a list of 2 or 3 zone ids',
      "region = (missing): expected a region id",
    ]);
  });

  test("zod's own issues format as they are", () => {
    const schema = z.object({ windows: z.array(z.object({ ends_at: z.string({ error: "a UTC time" }) })) });
    const input = { windows: [{ ends_at: "2026-12-12T14:00Z" }, { ends_at: 5 }] };
    const parsed = schema.safeParse(input);
    expect(formatIssues(parsed.error?.issues ?? [], { valueAt: valueIn(input) })).toEqual(["windows[1].ends_at = 5: expected a UTC time"]);
  });

  test("the contract module imports nothing, so the service and the stacks can both depend on it", async () => {
    const source = await readFile("contract/config-issues.ts", "utf8");
    expect(source).not.toMatch(/^\s*import\b|\bfrom\s+["']|\brequire\(/m);
  });
});
