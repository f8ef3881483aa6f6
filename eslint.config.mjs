// ESLint flat config: the house rules a reviewer should not have to repeat.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** The top-level folders (and the synth entry point); each may import only the ones its layer allows. */
const FOLDERS = ["app", "build", "contract", "scripts", "stacks", "test", "userdata", "main", ".gen"];

/**
 * `folder` may import only itself, packages and `mayImport`: a relative import that climbs out of the folder into any
 * other top-level folder is an error. One block per depth, since that is how far `../` must climb to leave it.
 */
function layer(folder, mayImport) {
  const forbidden = FOLDERS.filter((other) => other !== folder && !mayImport.includes(other));
  const message = `${folder}/ may import only ${mayImport.length ? mayImport.map((f) => `${f}/`).join(", ") : "itself"} among the project's folders (README: Develop)`;
  return [1, 2, 3, 4].map((depth) => ({
    files: [`${folder}/${"*/".repeat(depth - 1)}*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: `^(\\.\\./){${depth}}(${forbidden.map((f) => f.replace(".", "\\.")).join("|")})(/|$)`, message }] },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ["node_modules/", ".gen/", "dist/", "cdktf.out/", "coverage/", "bench-results/", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  // The layers, from the bottom: contract ← app; contract ← build ← userdata ← stacks ← main; scripts and tests use any.
  ...layer("contract", []),
  ...layer("app", ["contract"]),
  ...layer("build", ["contract"]),
  ...layer("userdata", ["build", "contract"]),
  ...layer("stacks", ["userdata", "build", "contract", ".gen"]),
  ...layer("scripts", ["app", "build", "contract", "stacks", "userdata", ".gen"]),
  {
    files: ["main.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^\\./(app|scripts|test)(/|$)", message: "main.ts builds the stacks: it imports stacks/, build/ and contract/ only" },
          ],
        },
      ],
    },
  },
  {
    // Tests and doubles may reach for anything, and jest's matchers return values on purpose.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
  },
);
