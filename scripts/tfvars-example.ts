/**
 * `npm run tfvars:example`: writes terraform.tfvars.example from the schema's documentation of every key
 * (stacks/config/schema.ts). Run it after changing a key; a test fails while the committed file is out of date.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { renderTfvarsExample } from "../stacks/config/tfvars-example";

const file = path.resolve("terraform.tfvars.example");
writeFileSync(file, renderTfvarsExample());
process.stdout.write(`${path.relative(process.cwd(), file)} written\n`);
