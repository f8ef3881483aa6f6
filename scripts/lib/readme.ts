/**
 * The README's generated sections: each lives between `<!-- generated:<name> -->` and `<!-- /generated:<name> -->`
 * and is rendered from what it documents, so the two cannot drift (`npm run docs` rewrites them; a test fails when
 * one is stale).
 */
import { SERVICE_ENV } from "../../contract/service-env";
import { capacityReport } from "./capacity-report";
import { alarmTable } from "../../stacks/alarm-guide";

/** The target the README's capacity example plans for: ALB's largest order limit. */
const README_CAPACITY_TARGET = 100_000;

export const GENERATED_SECTIONS: Readonly<Record<string, () => string | Promise<string>>> = {
  "service-env": () =>
    ["| variable | meaning |", "|---|---|", ...Object.entries(SERVICE_ENV).map(([name, meaning]) => `| \`${name}\` | ${meaning} |`)].join(
      "\n",
    ),
  // From envs/prod.tfvars and the newest committed bench file: a new bench run or a tfvars change shows up here.
  "capacity-prod": async () =>
    [
      "```text",
      `$ npm run capacity -- prod --target ${README_CAPACITY_TARGET}`,
      await capacityReport({ env: "prod", target: README_CAPACITY_TARGET }),
      "```",
    ].join("\n"),
  alarms: alarmTable,
};

/** The README with every generated section rendered anew; throws when a section's markers are missing. */
export async function withGeneratedSections(readme: string, sections = GENERATED_SECTIONS): Promise<string> {
  let text = readme;
  for (const [name, render] of Object.entries(sections)) {
    const open = `<!-- generated:${name} (npm run docs) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${open} … ${close}`);
    text = `${text.slice(0, start + open.length)}\n${await render()}\n${text.slice(end)}`;
  }
  return text;
}
