import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ServiceConfigError, loadConfig } from "../../app/platform/config";

const REPO = resolve(__dirname, "..", "..");
const env = {
  REDIS_URL: "redis://127.0.0.1:6379",
  MYSQL_URL: "mysql://seckill:secret@127.0.0.1:3306/seckill",
  SECKILL_ADMIN_TOKEN: "a".repeat(32),
  SECKILL_USER_TOKEN_SECRET: "s".repeat(32),
};

describe("where the service finds the sale page (WEB_ROOT)", () => {
  const startDir = process.cwd();
  let elsewhere: string;
  beforeEach(() => {
    elsewhere = mkdtempSync(join(tmpdir(), "web-root-"));
  });
  afterEach(() => {
    process.chdir(startDir);
    rmSync(elsewhere, { recursive: true, force: true });
  });

  test("unset, it serves web/ of the checkout it runs in (npm run app, npm run demo)", () => {
    process.chdir(REPO);
    expect(loadConfig(env).webRoot).toBe(join(REPO, "web"));
  });

  test("unset and without web/ (the ECS fleet, whose page the CDN serves), it serves no page", () => {
    process.chdir(elsewhere);
    expect(loadConfig(env).webRoot).toBeUndefined();
  });

  test("set, it names the page's directory, relative to the working directory or absolute", () => {
    process.chdir(REPO);
    expect(loadConfig({ ...env, WEB_ROOT: "web" }).webRoot).toBe(join(REPO, "web"));
    process.chdir(elsewhere);
    expect(loadConfig({ ...env, WEB_ROOT: join(REPO, "web") }).webRoot).toBe(join(REPO, "web"));
  });

  test("set to a directory without index.html, start-up fails naming WEB_ROOT", () => {
    expect(() => loadConfig({ ...env, WEB_ROOT: elsewhere })).toThrow(ServiceConfigError);
    expect(() => loadConfig({ ...env, WEB_ROOT: elsewhere })).toThrow(
      `WEB_ROOT must be a directory holding index.html, got "${elsewhere}"`,
    );
  });
});
