/** Long creates cannot time out at their typical duration: each sets timeouts above the provider's default, with room. */
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { loadEnvConfig } from "../../stacks/config";
import { Synthesized, TEST_NOW, synthesize } from "./support/synth";
import { LONG_RUNNING_RESOURCES, durationMinutes } from "./support/provider-timeouts";

const ENVS = readdirSync("envs")
  .filter((name) => name.endsWith(".tfvars"))
  .map((name) => path.basename(name, ".tfvars"));

describe.each(ENVS)("stack seckill-%s", (envName) => {
  let s: Synthesized;
  beforeAll(async () => {
    s = synthesize(await loadEnvConfig(`envs/${envName}.tfvars`, TEST_NOW));
  });

  test.each(LONG_RUNNING_RESOURCES.map((resource) => [resource.type, resource]))(
    "%s waits longer than the provider's default and the issue's floor",
    (_type, { type, defaults, atLeast }) => {
      const { timeouts } = s.one(type);
      expect(timeouts).toBeDefined();
      const create = durationMinutes(timeouts.create);
      expect(create).toBeGreaterThan(defaults.create);
      expect(create).toBeGreaterThanOrEqual(atLeast.create);
      if (atLeast.update !== undefined) {
        const update = durationMinutes(timeouts.update);
        expect(update).toBeGreaterThan(defaults.update);
        expect(update).toBeGreaterThanOrEqual(atLeast.update);
      }
    },
  );
});

test("durations read as Terraform writes them", () => {
  expect(durationMinutes("90m")).toBe(90);
  expect(durationMinutes("1h30m")).toBe(90);
  expect(() => durationMinutes("90")).toThrow("not a duration");
});
