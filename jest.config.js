/**
 * Two tiers. `unit`: everything that starts no process (stacks, provider schema, the service's modules against the
 * local Redis and MariaDB, the tools' pure parts): `npm run test:unit`, for everyday work. `integration`: the
 * `*.integration.test.ts` files, which start the service, the tools, terraform, chromium, throwaway servers or the
 * protocol doubles of RocketMQ and Nacos, or wait out Redis and MySQL timeouts behind a silent proxy (seconds each):
 * `npm run test:integration`. Type checking happens once in `npm run typecheck`; jest only transpiles.
 */
const shared = {
  testEnvironment: "node",
  moduleFileExtensions: ["ts", "js", "json", "lua"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }], "^.+\\.lua$": "<rootDir>/test/support/text-transform.js" },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
};

module.exports = {
  testTimeout: 60000,
  projects: [
    {
      ...shared,
      displayName: "unit",
      roots: ["<rootDir>/test"],
      testMatch: ["**/*.test.ts"],
      testPathIgnorePatterns: ["\\.integration\\.test\\.ts$"],
    },
    { ...shared, displayName: "integration", roots: ["<rootDir>/test"], testMatch: ["**/*.integration.test.ts"] },
  ],
};
