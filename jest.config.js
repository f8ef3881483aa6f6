/** Type checking happens once in `npm run typecheck`; jest only transpiles. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  moduleFileExtensions: ["ts", "js", "json", "lua"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }], "^.+\\.lua$": "<rootDir>/test/support/text-transform.js" },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  testTimeout: 60000,
};
