import { tfvarsSchemaWithRules } from "../../../stacks/config/rules";

const NOW = new Date("2026-11-25T00:00:00Z");
const MINIMAL = { region: "cn-hangzhou", zones: ["cn-hangzhou-j", "cn-hangzhou-k"] };

function issuesOf(tfvars: Record<string, unknown>) {
  const parsed = tfvarsSchemaWithRules(NOW).safeParse(tfvars);
  return (parsed.error?.issues ?? []).map(({ path, message }) => ({ path, message }));
}

describe("tfvars rules", () => {
  test("a broken rule is a zod issue at the exact key or list item it is about", () => {
    const window = (name: string, day: number) => ({
      name,
      starts_at: `2026-12-${day}T12:00Z`,
      ends_at: `2026-12-${day}T14:00Z`,
      instances: 2,
    });
    expect(issuesOf({ ...MINIMAL, min_instances: 4, max_instances: 3, sale_windows: [window("d12", 12), window("d12", 13)] })).toEqual([
      { path: ["max_instances"], message: "at least min_instances (4)" },
      { path: ["sale_windows", 0, "instances"], message: "from min_instances (4) to max_instances (3)" },
      { path: ["sale_windows", 1, "name"], message: "a name no other sale window uses" },
      { path: ["sale_windows", 1, "instances"], message: "from min_instances (4) to max_instances (3)" },
    ]);
  });

  test("the rules wait until every key has a valid value of its own", () => {
    // max below min breaks a rule, but a CIDR with host bits set is refused first (and could not be carved from).
    expect(issuesOf({ ...MINIMAL, vpc_cidr: "10.0.0.1/16", min_instances: 4, max_instances: 3 })).toEqual([
      { path: ["vpc_cidr"], message: 'an IPv4 CIDR such as "10.0.0.0/16" (no host bits set)' },
    ]);
  });

  test("a valid file passes with every default filled in", () => {
    const parsed = tfvarsSchemaWithRules(NOW).parse(MINIMAL);
    expect(parsed).toMatchObject({ vpc_cidr: "10.0.0.0/16", max_instances: 10, sale_windows: [] });
  });
});
