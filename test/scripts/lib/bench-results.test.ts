import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchResultsFileName, newestBenchFile, readBenchFile } from "../../../scripts/lib/bench-results";

describe("bench result files", () => {
  let dir: string;
  const file = (name: string, content: unknown) => {
    const at = path.join(dir, name);
    writeFileSync(at, typeof content === "string" ? content : JSON.stringify(content));
    return at;
  };

  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), "bench-results-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("are named by UTC time and Node major version, so they sort by time", () => {
    expect(benchResultsFileName(new Date("2026-12-07T18:04:05.678Z"), "v24.21.0")).toBe("2026-12-07T18-04-05Z-node24.json");
    expect(benchResultsFileName(new Date("2026-12-07T18:04:05Z"), "20.20.2")).toBe("2026-12-07T18-04-05Z-node20.json");
    expect(() => benchResultsFileName(new Date(), "Node")).toThrow('not a Node.js version: "Node"');
  });

  it("give the capacity model the per-order CPU figures", () => {
    const perOrder = { serviceMicros: 80, redisMicros: 17, mysqlMicros: 9 };
    const at = file("a-node24.json", { date: "2026-12-07T18:00:00Z", node: "Node v24.21.0", perOrder, figures: {} });
    expect(readBenchFile(at)).toEqual({ date: "2026-12-07T18:00:00Z", node: "Node v24.21.0", perOrder, file: at });
  });

  it("say what is wrong with a file that is not one", () => {
    expect(() => readBenchFile(path.join(dir, "gone.json"))).toThrow(
      /gone\.json does not exist \(npm run bench writes them into bench-results\/\)/,
    );
    expect(() => readBenchFile(file("x.json", "{"))).toThrow(/x\.json is not JSON/);
    expect(() =>
      readBenchFile(file("y.json", { date: "d", node: "n", perOrder: { serviceMicros: 0, redisMicros: 1, mysqlMicros: 1 } })),
    ).toThrow(/y\.json is not one npm run bench saved \(perOrder\.serviceMicros: /);
  });

  it("default to the newest on the fleet's Node, else the newest of any", () => {
    expect(newestBenchFile(path.join(dir, "none"), 24)).toBeUndefined();
    file("2026-12-01T00-00-00Z-node24.json", {});
    file("2026-12-02T00-00-00Z-node24.json", {});
    file("2026-12-03T00-00-00Z-node20.json", {});
    file("notes.txt", "");
    expect(newestBenchFile(dir, 24)).toBe(path.join(dir, "2026-12-02T00-00-00Z-node24.json"));
    expect(newestBenchFile(dir, 22)).toBe(path.join(dir, "2026-12-03T00-00-00Z-node20.json"));
  });
});
