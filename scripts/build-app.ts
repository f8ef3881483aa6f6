/** `npm run build:app`: the service as the fleet runs it (build/app-artifact.ts bundleApp), at dist/app/main.js. */
import { mkdirSync, writeFileSync } from "node:fs";
import { bundleApp } from "../build/app-artifact";

mkdirSync("dist/app", { recursive: true });
writeFileSync("dist/app/main.js", bundleApp().mainJs);
