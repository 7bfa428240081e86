import { afterEach, describe, expect, it } from "vitest";
import { type FollowClock, followEvents, followRun, RUN_PATIENCE_MS } from "../../cli/follow";
import { CentralClient, CentralUnreachableError, type StoredEvent } from "../../contract";
import { runCli } from "../helpers/cli";
import { type FakeCentral, sseEvent, sseStart, startFakeCentral } from "../helpers/fake-central";

/** Following central's event stream through what goes wrong on the way, against fake centrals. */
const RUN_ID = "01a2532d-1607-75d6-8457-43782f461840";
const usage = { tokens_in: 0, tokens_out: 0, cost_usd: 0 };

function storedEvent(kind: string, seq: number): Record<string, unknown> {
  return {
    event_id: `01a2532d-1607-75d6-8457-43782f4618${String(40 + seq)}`,
    tenant: "local",
    run_id: RUN_ID,
    agent_id: "central",
    source: "central",
    seq,
    attempt: 1,
    ts: new Date().toISOString(),
    kind,
    payload:
      kind === "run_cancelled"
        ? { reason: "cancelled by user", by: null, usage, tree_ref: null }
        : { reason: "no agent yet" },
  };
}

function runState(status: "pending" | "cancelled"): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    run_id: RUN_ID,
    intent_id: "01a2532d-1607-75d5-bac1-2e853a187be3",
    tenant: "local",
    app: null,
    agent_id: null,
    targets: [{ app: "nosuch" }],
    tree_ref: null,
    status,
    attempt: 0,
    lease: null,
    timings: {
      created_at: now,
      dispatched_at: null,
      started_at: null,
      finished_at: status === "cancelled" ? now : null,
    },
    usage,
    error: null,
    result: null,
    waiting: null,
  };
}

/** A clock whose sleeps pass at once, moving its time on. */
function fakeClock(onSleep: (ms: number, now: number) => void | Promise<void> = () => {}) {
  const clock = {
    at: 0,
    sleeps: [] as number[],
    now: () => clock.at,
    async sleep(ms: number) {
      clock.sleeps.push(ms);
      clock.at += ms;
      await onSleep(ms, clock.at);
    },
  };
  return clock satisfies FollowClock;
}

const centrals: FakeCentral[] = [];
async function fake(handle: Parameters<typeof startFakeCentral>[0]): Promise<FakeCentral> {
  const central = await startFakeCentral(handle);
  centrals.push(central);
  return central;
}
afterEach(async () => {
  for (const central of centrals.splice(0)) await central.down();
});

/**
 * Central's stream delivers the run's end; the GETs of the run after the first then fail at the
 * connection level `drops` times (central restarting as the run ends).
 */
async function endingRun(drops: number): Promise<FakeCentral> {
  let gets = 0;
  return fake((req, res) => {
    if (req.url!.startsWith("/v1/events/stream")) {
      sseStart(res);
      // As central does: a reconnect gets only what comes after its Last-Event-ID.
      if (Number(req.headers["last-event-id"] ?? 0) < 7)
        res.write(sseEvent(7, storedEvent("run_cancelled", 1)));
      return;
    }
    if (!req.url!.startsWith("/v1/runs/")) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "not_found", message: "not here" } }));
      return;
    }
    gets += 1;
    if (gets > 1 && gets <= 1 + drops) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(runState(gets === 1 ? "pending" : "cancelled")));
  });
}

/** Follows the run with the real CLI, which must end with the cancelled run, printed once. */
async function followToTheEnd(central: FakeCentral): Promise<string> {
  const r = await runCli(["runs", "events", RUN_ID, "--follow"], {
    env: { AURAISON_URL: central.url, AURAISON_KEY: "k" },
    timeoutMs: 20_000,
  });
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout.match(/run_cancelled/g)).toHaveLength(1);
  expect(r.stderr).toContain(`run ${RUN_ID} cancelled`);
  return r.stderr;
}

describe("runs events --follow (and intent submit --wait)", () => {
  it("ends with the run when reading the run fails once as it ends", async () => {
    await followToTheEnd(await endingRun(1));
  });

  it("handles the run's end again after a reconnect when reading the run keeps failing, printing it once", async () => {
    const central = await endingRun(4);
    const stderr = await followToTheEnd(central);
    expect(stderr.match(/reconnecting/g)).toHaveLength(1);
    expect(central.requests.filter((q) => q.url.startsWith("/v1/events/stream"))).toHaveLength(2);
  });
});

describe("following the event stream", () => {
  it("keeps a stream that stays quiet past the request timeout, as long as keepalives come", async () => {
    const central = await fake((_req, res) => {
      sseStart(res, "retry: 1000\nid: 41\n\n");
      const keepalive = setInterval(() => res.write(": keepalive\n\n"), 50);
      setTimeout(() => {
        clearInterval(keepalive);
        res.write(sseEvent(42, storedEvent("run_cancelled", 1)));
      }, 1_000);
      res.on("close", () => clearInterval(keepalive));
    });
    const client = new CentralClient({ url: central.url, key: "k", timeoutMs: 200 });
    const seen: StoredEvent[] = [];
    await followEvents(client, {}, (event) => seen.push(event) > 0, { clock: fakeClock() });
    expect(seen.map((e) => e.cursor)).toEqual([42]);
    expect(central.requests).toHaveLength(1);
  });

  it("cuts a stream that sends nothing for the idle timeout and resumes where central said it started", async () => {
    let streams = 0;
    const central = await fake((_req, res) => {
      streams += 1;
      // The first stream says where it starts, then goes silent; meanwhile event 42 happens.
      if (streams === 1) sseStart(res, "retry: 1000\nid: 41\n\n");
      else {
        sseStart(res);
        res.write(sseEvent(42, storedEvent("run_cancelled", 1)));
      }
    });
    const client = new CentralClient({ url: central.url, key: "k", idleTimeoutMs: 300 });
    const said: string[] = [];
    const seen: number[] = [];
    await followEvents(client, {}, (event) => seen.push(event.cursor) > 0, {
      clock: fakeClock(),
      say: (line) => said.push(line),
    });
    expect(seen).toEqual([42]);
    expect(central.requests.map((q) => q.lastEventId)).toEqual([null, "41"]);
    expect(said).toEqual([expect.stringMatching(/nothing received for 300 ms.*reconnecting…$/)]);
  });

  it("waits out minutes of central being down once connected, saying so once, backing off to 10 s", async () => {
    let streams = 0;
    const central = await fake((_req, res) => {
      streams += 1;
      sseStart(res, "retry: 1000\nid: 5\n\n");
      if (streams === 1) setTimeout(() => void central.down(), 50);
      else res.write(sseEvent(6, storedEvent("run_cancelled", 1)));
    });
    const clock = fakeClock(async (_ms, now) => {
      if (now >= 5 * 60_000 && streams === 1) await central.up();
    });
    const said: string[] = [];
    const seen: number[] = [];
    await followEvents(
      new CentralClient({ url: central.url, key: "k" }),
      {},
      (event) => seen.push(event.cursor) > 0,
      { clock, say: (line) => said.push(line) },
    );
    expect(seen).toEqual([6]);
    expect(clock.at).toBeGreaterThanOrEqual(5 * 60_000);
    expect(Math.max(...clock.sleeps)).toBe(10_000);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/reconnecting…$/);
    expect(central.requests.at(-1)?.lastEventId).toBe("5");
  });

  it("gives a run up after its patience when its end can never be read, saying so once", async () => {
    // The stream is up and replays the run's end after each reconnect; reading the run never
    // gets an answer.
    const central = await fake((req, res) => {
      if (!req.url!.startsWith("/v1/events/stream")) {
        req.socket.destroy();
        return;
      }
      sseStart(res, `retry: 1000\nid: ${req.headers["last-event-id"] ?? 0}\n\n`);
      if (Number(req.headers["last-event-id"] ?? 0) < 7)
        res.write(sseEvent(7, storedEvent("run_cancelled", 1)));
    });
    const clock = fakeClock(async (_ms, now) => {
      if (now > 60 * 60_000) throw new Error("still following after an hour");
    });
    const said: string[] = [];
    const client = new CentralClient({ url: central.url, key: "k" });
    await expect(
      followRun(client, RUN_ID, true, { clock, say: (line) => said.push(line) }),
    ).rejects.toThrow(CentralUnreachableError);
    expect(clock.at).toBeGreaterThanOrEqual(RUN_PATIENCE_MS);
    expect(clock.at).toBeLessThan(RUN_PATIENCE_MS + 10_000);
    expect(said).toHaveLength(1);
  });

  it("gives a run's follow up after its patience, and fails the very first connect at once", async () => {
    const central = await fake((_req, res) => {
      sseStart(res, "retry: 1000\nid: 5\n\n");
      setTimeout(() => void central.down(), 50);
    });
    const clock = fakeClock();
    const client = new CentralClient({ url: central.url, key: "k" });
    await expect(followRun(client, RUN_ID, true, { clock, say: () => {} })).rejects.toThrow(
      CentralUnreachableError,
    );
    expect(clock.at).toBeGreaterThanOrEqual(RUN_PATIENCE_MS);
    expect(clock.at).toBeLessThan(RUN_PATIENCE_MS + 10_000);
    const never = fakeClock();
    await expect(followEvents(client, {}, () => true, { clock: never })).rejects.toThrow(
      CentralUnreachableError,
    );
    expect(never.sleeps).toEqual([]);
  });
});
