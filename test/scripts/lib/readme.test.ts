import { readFileSync } from "node:fs";
import { GENERATED_SECTIONS, withGeneratedSections } from "../../../scripts/lib/readme";

describe("the README's generated sections", () => {
  it("are current: they match what they document (run npm run docs when this fails)", async () => {
    const readme = readFileSync("README.md", "utf8");
    expect(await withGeneratedSections(readme)).toBe(readme);
  });

  it("are rendered between their markers, leaving the rest of the text alone", async () => {
    const text =
      "intro\n<!-- generated:service-env (npm run docs) -->\nstale\n<!-- /generated:service-env -->\n" +
      "<!-- generated:alarms (npm run docs) -->\n<!-- /generated:alarms -->\noutro\n";
    const rendered = await withGeneratedSections(text, {
      "service-env": GENERATED_SECTIONS["service-env"],
      alarms: GENERATED_SECTIONS.alarms,
    });
    expect(rendered).toMatch(/^intro\n<!-- generated:service-env \(npm run docs\) -->\n\| variable \| meaning \|\n/);
    expect(rendered).toContain("| `REDIS_URL` |");
    expect(rendered).not.toContain("stale");
    expect(rendered).toContain("<!-- /generated:service-env -->\n<!-- generated:alarms (npm run docs) -->\n| alarm | from |");
    expect(rendered).toContain("| `writer-lag` | SLS alert |");
    expect(rendered.endsWith("<!-- /generated:alarms -->\noutro\n")).toBe(true);
  });

  it("name the section whose markers are missing", async () => {
    await expect(withGeneratedSections("no markers")).rejects.toThrow("README.md lacks the markers <!-- generated:service-env");
  });
});
