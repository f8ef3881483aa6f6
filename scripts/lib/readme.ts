/**
 * The README's generated sections: each lives between `<!-- generated:<name> -->` and `<!-- /generated:<name> -->`
 * and is rendered from the declaration it documents, so the two cannot drift (`npm run docs` rewrites them; a test
 * fails when one is stale).
 */
import { SERVICE_ENV } from "../../contract/service-env";
import { alarmTable } from "../../stacks/alarm-guide";

export const GENERATED_SECTIONS: Readonly<Record<string, () => string>> = {
  "service-env": () =>
    ["| variable | meaning |", "|---|---|", ...Object.entries(SERVICE_ENV).map(([name, meaning]) => `| \`${name}\` | ${meaning} |`)].join(
      "\n",
    ),
  alarms: alarmTable,
};

/** The README with every generated section rendered anew; throws when a section's markers are missing. */
export function withGeneratedSections(readme: string): string {
  let text = readme;
  for (const [name, render] of Object.entries(GENERATED_SECTIONS)) {
    const open = `<!-- generated:${name} (npm run docs) -->`;
    const close = `<!-- /generated:${name} -->`;
    const start = text.indexOf(open);
    const end = text.indexOf(close);
    if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${open} … ${close}`);
    text = `${text.slice(0, start + open.length)}\n${render()}\n${text.slice(end)}`;
  }
  return text;
}
