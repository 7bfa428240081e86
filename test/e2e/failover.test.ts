import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ManagedProcess, spawnManaged } from "../../cli/local-stack/processes";
import {
  type AgentEvent,
  AgentList,
  CentralClient,
  EventsPage,
  IntentAccepted,
  PATHS,
  RunState,
  type StoredEvent,
  TenantSettings,
} from "../../contract";
import { type CentralDev, createKey, createTenant, startCentralDev } from "../helpers/central-dev";
import { BIN, runCli } from "../helpers/cli";
import { startSampleEdge } from "../helpers/platform-processes";

const LEASE_MS = 4_000;

/**
 * The failure paths, with real processes: central in workerd (wrangler dev), two edge agents on
 * pi, memory on DuckLake. An edge killed mid-run loses its lease and the run moves to the other
 * agent; a central outage does not stop local work, and the events reach central exactly once.
 */
describe("end to end: edge death and central outage", () => {
  const root = mkdtempSync(join(tmpdir(), "auraison-e2e-failover-"));
  let central: CentralDev;
  let admin: CentralClient;
  let agentKey = "";
  let viewerKey = "";
  const edges = new Map<string, ManagedProcess>();
  let memory: ManagedProcess | null = null;

  const startEdge = (name: string) => {
    const edge = startSampleEdge({
      name: `edge-${name}`,
      agentId: `host-${name}.lab-notes`,
      state: join(root, `edge-${name}`),
      central: { url: central.url, key: agentKey },
      model: "scripted/lab-notes",
    });
    edges.set(name, edge);
    return edge;
  };

  const waitFor = async <T>(
    what: string,
    probe: () => Promise<T | null | undefined | false>,
    timeoutMs = 60_000,
  ) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const runEvents = async (runId: string): Promise<StoredEvent[]> => {
    const events: StoredEvent[] = [];
    let after = 0;
    for (;;) {
      const page = await admin.request(
        "GET",
        `${PATHS.events}?run=${runId}&after=${after}&limit=1000`,
        EventsPage,
      );
      events.push(...(page.events as StoredEvent[]));
      if (!page.has_more) return events;
      after = page.next_cursor;
    }
  };

  const outboxEvents = (name: string, runId: string): AgentEvent[] =>
    readdirSync(join(root, `edge-${name}`, "outbox"))
      .filter((f) => f.endsWith(".ndjson"))
      .sort()
      .flatMap((f) => readFileSync(join(root, `edge-${name}`, "outbox", f), "utf8").split("\n"))
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as AgentEvent)
      .filter((e) => e.run_id === runId);

  const agentsOnline = async (count: number) =>
    waitFor(`${count} agents online`, async () => {
      const { agents } = await admin.request("GET", PATHS.agents, AgentList);
      return agents.filter((a) => a.status === "online" || a.status === "busy").length >= count;
    });

  beforeAll(async () => {
    central = await startCentralDev();
    const adminKey = await createTenant(central.url, central.bootstrapKey, "lab");
    admin = new CentralClient({ url: central.url, key: adminKey });
    await admin.request(
      "PUT",
      PATHS.settings,
      TenantSettings,
      TenantSettings.parse({
        heartbeat: {
          interval_ms: 1_000,
          degraded_after: 1,
          disconnected_after: 2,
          offline_grace_ms: 60_000,
        },
        dispatch: { ack_timeout_ms: 3_000, lease_ms: LEASE_MS },
        retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 500, max_delay_ms: 500 },
      }),
    );
    agentKey = await createKey(central.url, adminKey, "agent", "lab-notes hosts", "lab-notes");
    viewerKey = await createKey(central.url, adminKey, "viewer", "memory projector");
    startEdge("a");
    startEdge("b");
    await agentsOnline(2);
    memory = spawnManaged(
      "memory",
      process.execPath,
      [
        BIN,
        "memory",
        "sync",
        "--from",
        central.url,
        "--follow",
        "--poll",
        "500ms",
        "--lake",
        join(root, "lake"),
      ],
      { env: { ...process.env, AURAISON_KEY: viewerKey } },
    );
  }, 240_000);

  afterAll(async () => {
    await memory?.stop("SIGKILL", 0);
    for (const edge of edges.values()) await edge.stop("SIGKILL", 0);
    await central?.stop();
  });

  let failedOver = "";

  it("re-dispatches a run to the other agent within the lease time when its agent is killed mid-run", async () => {
    const accepted = await admin.request("POST", PATHS.intents, IntentAccepted, {
      targets: [{ app: "lab-notes" }],
      params: { prompt: "summarise the notebook" },
    });
    const runId = accepted.run.run_id;
    failedOver = runId;
    // Wait until the run is mid-flight: its first tool call has finished on the first agent.
    await waitFor("the first tool call", async () =>
      (await runEvents(runId)).some((e) => e.kind === "tool_call_finished"),
    );
    const first = await admin.request("GET", `${PATHS.runs}/${runId}`, RunState);
    const victim = first.agent_id === "host-a.lab-notes" ? "a" : "b";
    const survivor = victim === "a" ? "b" : "a";
    const killedAt = Date.now();
    await edges.get(victim)!.stop("SIGKILL", 0);

    const redispatched = await waitFor(
      "re-dispatch",
      async () =>
        (await runEvents(runId)).find(
          (e) => e.kind === "run_dispatched" && e.payload.attempt === 2,
        ) as (StoredEvent & { kind: "run_dispatched" }) | undefined,
      30_000,
    );
    expect(redispatched.payload.agent_id).toBe(`host-${survivor}.lab-notes`);
    // Lease expiry, one-second timer resolution and the retry delay: well inside lease + 3 s.
    expect(Date.parse(redispatched.ts) - killedAt).toBeLessThan(LEASE_MS + 3_000);
    const done = await waitFor(
      "the run to complete",
      async () => {
        const run = await admin.request("GET", `${PATHS.runs}/${runId}`, RunState);
        return run.status === "completed" ? run : null;
      },
      60_000,
    );
    expect(done).toMatchObject({ attempt: 2, agent_id: `host-${survivor}.lab-notes` });
    const events = await runEvents(runId);
    expect(events.some((e) => e.kind === "lease_expired" && e.payload.next === "retry")).toBe(true);

    // The killed agent comes back and delivers what was still in its outbox: recorded, exactly
    // once, and the finished run does not change.
    startEdge(victim);
    await agentsOnline(2);
    const outbox = outboxEvents(victim, runId);
    await waitFor("the restarted agent's outbox to reach central", async () => {
      const ids = new Set((await runEvents(runId)).map((e) => e.event_id));
      return outbox.every((e) => ids.has(e.event_id));
    });
    const after = await runEvents(runId);
    expect(new Set(after.map((e) => e.event_id)).size).toBe(after.length);
    expect((await admin.request("GET", `${PATHS.runs}/${runId}`, RunState)).status).toBe(
      "completed",
    );
  }, 180_000);

  it("keeps working while central is down, and delivers the local run's events exactly once when it is back", async () => {
    await central.stop();
    const local = await runCli(
      [
        "edge",
        "run",
        "--app",
        "lab-notes",
        "--state",
        join(root, "edge-b"),
        "--json",
        "count the notes",
      ],
      {
        timeoutMs: 120_000,
        env: { AURAISON_URL: "", AURAISON_KEY: "" },
      },
    );
    expect(local.code, local.stderr).toBe(0);
    const lines = local.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const runId = lines.find((l) => l.kind === "run_started")?.run_id as string;
    expect(runId).toBeDefined();
    const outbox = outboxEvents("b", runId);
    expect(outbox.at(-1)?.kind).toBe("run_completed");

    await central.restart();
    await waitFor(
      "the local run's events in central",
      async () => (await runEvents(runId)).length >= outbox.length,
      60_000,
    );
    // Give redelivery every chance to double something, then check nothing was.
    await new Promise((r) => setTimeout(r, 3_000));
    const events = await runEvents(runId);
    expect(events.map((e) => e.event_id).sort()).toEqual(outbox.map((e) => e.event_id).sort());
    expect(events.map((e) => e.seq)).toEqual(outbox.map((e) => e.seq));
  }, 240_000);

  it("has both runs in memory, the failed-over one with its two attempts", async () => {
    const query = `select run_id, status, attempts from runs where run_id = '${failedOver}'`;
    let last = "";
    const rows = await waitFor(
      "memory to catch up",
      async () => {
        const result = await runCli([
          "--json",
          "memory",
          "sql",
          "--lake",
          join(root, "lake"),
          query,
        ]);
        last = `${result.code} ${result.stdout} ${result.stderr}`;
        const parsed = result.code === 0 ? JSON.parse(result.stdout) : [];
        return parsed.length === 1 && parsed[0].status === "completed" ? parsed : null;
      },
      100_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nlast query: ${last}\nprojector:\n${memory?.output()}`);
    });
    expect(rows[0]).toMatchObject({ status: "completed", attempts: 2 });
  }, 120_000);
});
