import { Cleanups } from "../../../scripts/lib/cleanups";

describe("Cleanups", () => {
  it("runs what was started, newest first, each once", async () => {
    const cleanups = new Cleanups();
    const ran: string[] = [];
    cleanups.add(async () => ran.push("servers"));
    const stopService = cleanups.add(async () => ran.push("service"));
    cleanups.add(async () => ran.push("scratch"));
    await stopService();
    await stopService();
    await cleanups.runAll(() => undefined);
    await cleanups.runAll(() => undefined);
    expect(ran).toEqual(["service", "scratch", "servers"]);
  });

  it("reports a cleanup that fails and still runs the others", async () => {
    const cleanups = new Cleanups();
    const ran: string[] = [];
    const reported: string[] = [];
    cleanups.add(async () => ran.push("servers"));
    cleanups.add(async () => {
      throw new Error("the service did not stop");
    });
    await cleanups.runAll((message) => reported.push(message));
    expect(ran).toEqual(["servers"]);
    expect(reported).toEqual(["cleanup: the service did not stop"]);
  });
});
