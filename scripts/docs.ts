/** `npm run docs`: renders the README's generated sections (scripts/lib/readme.ts) in place. */
import { readFileSync, writeFileSync } from "node:fs";
import { withGeneratedSections } from "./lib/readme";
import { runMain } from "./lib/cli";

runMain(async () => {
  const readme = readFileSync("README.md", "utf8");
  const updated = await withGeneratedSections(readme);
  writeFileSync("README.md", updated);
  process.stdout.write(updated === readme ? "README.md: generated sections already current\n" : "README.md: generated sections updated\n");
  return 0;
});
