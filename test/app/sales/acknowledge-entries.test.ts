/** acknowledge-entries.lua: the order writer's acknowledgement, which trims only what no consumer needs any more. */
import { ACKNOWLEDGE_ENTRIES_SCRIPT } from "../../../app/sales/reservation-script";
import { dataTierForTestFile } from "../support/data-tier";

const tier = dataTierForTestFile();
const GROUP = "writers";
let streamNumber = 0;

/** A fresh stream of `count` entries with the writers' group at its start. */
async function streamOf(count: number): Promise<{ stream: string; ids: string[] }> {
  const stream = `${tier.resources.keyPrefix}ack-test-${streamNumber++}`;
  await tier.redis.xgroup("CREATE", stream, GROUP, "0", "MKSTREAM");
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await tier.redis.xadd(stream, "*", "n", String(i)))!);
  return { stream, ids };
}

async function read(stream: string, consumer: string, count: number): Promise<string[]> {
  const reply = (await tier.redis.xreadgroup("GROUP", GROUP, consumer, "COUNT", count, "STREAMS", stream, ">")) as
    [string, [string, string[]][]][] | null;
  return (reply?.[0][1] ?? []).map(([id]) => id);
}

function acknowledge(stream: string, ids: string[]): Promise<number> {
  return tier.redis.eval(ACKNOWLEDGE_ENTRIES_SCRIPT, 1, stream, GROUP, ...ids) as Promise<number>;
}

async function remaining(stream: string): Promise<string[]> {
  return (await tier.redis.xrange(stream, "-", "+")).map(([id]) => id);
}

describe("acknowledging order events", () => {
  it("acknowledges the entries and removes them from the stream", async () => {
    const { stream, ids } = await streamOf(5);
    expect(await read(stream, "a", 5)).toEqual(ids);
    expect(await acknowledge(stream, ids)).toBe(5);
    expect(await remaining(stream)).toEqual([]);
    expect(await tier.redis.xpending(stream, GROUP)).toEqual([0, null, null, null]);
  });

  it("never removes an entry nobody has read yet", async () => {
    const { stream, ids } = await streamOf(5);
    const first = await read(stream, "a", 3);
    await acknowledge(stream, first);
    expect(await remaining(stream)).toEqual(ids.slice(3));
    expect(await read(stream, "a", 5)).toEqual(ids.slice(3));
  });

  it("keeps every entry from the oldest one still pending, whoever holds it, until it is settled", async () => {
    const { stream, ids } = await streamOf(6);
    // A dead consumer holds the first two; the live one acknowledges the rest.
    await read(stream, "dead", 2);
    await acknowledge(stream, await read(stream, "live", 4));
    expect(await remaining(stream)).toEqual(ids);
    // Taken over and settled: everything goes.
    await tier.redis.xclaim(stream, GROUP, "live", 0, ids[0], ids[1]);
    await acknowledge(stream, ids.slice(0, 2));
    expect(await remaining(stream)).toEqual([]);
  });

  it("counts only entries that were pending, as XACK does", async () => {
    const { stream, ids } = await streamOf(2);
    await read(stream, "a", 2);
    expect(await acknowledge(stream, ids)).toBe(2);
    expect(await acknowledge(stream, ids)).toBe(0);
  });
});
