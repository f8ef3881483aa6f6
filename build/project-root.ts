import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const PROJECT_NAME = "seckill-alicloud";

/** The repository root, found from here whether this runs from source (ts-jest) or compiled/bundled into dist/. */
export function projectRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === PROJECT_NAME) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the ${PROJECT_NAME} package.json above ${__dirname}`);
  }
}
