import { describe, expect, it } from "vitest";
import {
  type AgentEvent,
  blankRun,
  EVENT_KINDS,
  FOLDED_KINDS,
  inLogOrder,
  type RunLife,
  replayRun,
  runStateOf,
} from "../../../contract";
import { PAYLOADS } from "../fixtures";
import {
  edgeEvent,
  ended,
  modelCall,
  nextId,
  OwnerHarness,
  settings,
  started,
  toolFinished,
} from "./harness";

/** A small seeded PRNG (mulberry32), so a failing scenario can be replayed by its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Drives central (the owner) through a random but plausible life: dispatches, acks, claims,
 * agents reporting, agents vanishing, late reports from lost attempts, cancels, time passing.
 */
function simulate(seed: number, onStep: (h: OwnerHarness) => void = () => {}): OwnerHarness {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const deadline = rnd() < 0.3 ? new Date(Date.now()).toISOString() : undefined;
  const h = new OwnerHarness(settings({ queue_timeout_ms: rnd() < 0.5 ? 120_000 : null }));
  if (deadline) h.life.deadline = h.now + 400_000 + Math.floor(rnd() * 400_000);
  const agents = ["a1", "a2", "a3"];
  const seqs = new Map<string, number>();
  const edge = (
    kind: Parameters<OwnerHarness["edge"]>[0],
    payload: unknown,
    agent: string,
    attempt: number,
  ) => {
    const key = `${agent}/${attempt}`;
    const seq = seqs.get(key) ?? 0;
    seqs.set(key, seq + 1);
    return h.edge(kind, payload, { agent, attempt, seq });
  };
  for (
    let i = 0;
    i < 40 &&
    h.life.status !== "completed" &&
    h.life.status !== "failed" &&
    h.life.status !== "cancelled";
    i++
  ) {
    h.advance(Math.floor(rnd() * 30_000));
    const life = h.life;
    const hold = life.hold;
    const r = rnd();
    if (life.status === "pending") {
      if (r < 0.5) h.step({ type: "dispatch", agent_id: pick(agents), app: "lab-notes" });
      else if (r < 0.7) h.step({ type: "queue", served: rnd() < 0.5 });
      else if (r < 0.75) h.step({ type: "cancel", reason: "user", by: null });
      else h.advance(Math.floor(rnd() * 200_000)).step({ type: "tick" });
      onStep(h);
      continue;
    }
    const agent = hold?.agent_id ?? pick(agents);
    const attempt = hold?.attempt ?? life.attempt;
    if (r < 0.1) h.step({ type: "ack", agent_id: agent, attempt });
    else if (r < 0.2) h.step({ type: "claim", agent_id: agent, attempt });
    else if (r < 0.5) {
      const kind = pick(["started", "model", "gateway", "tool"] as const);
      const events: AgentEvent[] = [];
      if (kind === "started")
        events.push(
          edge("run_started", started(life.intent_id!, attempt, "central"), agent, attempt),
        );
      if (kind === "model" || kind === "gateway") {
        const id = nextId();
        const gw = h.edge(
          "model_call",
          modelCall("gateway", { call_id: id, input: 10, cost: 0.001 }),
          {
            agent: "central",
            attempt: null,
          },
        );
        const ed = edge(
          "model_call",
          modelCall("edge", { gateway_call_id: id, input: 10 }),
          agent,
          attempt,
        );
        events.push(...(kind === "gateway" ? [gw, ed] : rnd() < 0.5 ? [ed] : [ed, gw]));
      }
      if (kind === "tool")
        events.push(
          edge(
            "tool_call_finished",
            toolFinished(pick(["ok", "error", "blocked"] as const)),
            agent,
            attempt,
          ),
        );
      h.step({ type: "events", events });
    } else if (r < 0.65) {
      const outcome = pick(["completed", "failed-retryable", "failed-final", "cancelled"] as const);
      const e =
        outcome === "completed"
          ? edge("run_completed", ended({ result: `r${seed}` }), agent, attempt)
          : outcome === "cancelled"
            ? edge(
                "run_cancelled",
                { ...ended(), reason: "stopped on the host", by: null },
                agent,
                attempt,
              )
            : edge(
                "run_failed",
                ended({
                  error:
                    outcome === "failed-final"
                      ? { category: "tool", reason: "tool_error", message: "x" }
                      : { category: "infrastructure", reason: "host_down", message: "y" },
                }),
                agent,
                attempt,
              );
      h.step({ type: "events", events: [e] });
    } else if (r < 0.75 && life.attempt > 1) {
      // A lost attempt's agent comes back and reports.
      const old = life.attempt - 1;
      h.step({
        type: "events",
        events: [edge("run_completed", ended({ result: "late" }), pick(agents), old)],
      });
    } else if (r < 0.8) h.step({ type: "cancel", reason: "user", by: "key" });
    else h.advance(Math.floor(rnd() * 150_000)).step({ type: "tick" });
    onStep(h);
  }
  return h;
}

/** What a reader of the run sees, and what the fold settles. */
function view(life: RunLife) {
  const state = runStateOf(life);
  return {
    status: state.status,
    intent_status: life.intent_status,
    attempt: state.attempt,
    error: state.error,
    result: state.result,
    usage: state.usage,
    settled_by: life.settled_by,
    finished_at: state.timings.finished_at,
  };
}

describe("replaying the log gives the run its owner had", () => {
  const seeds = Array.from({ length: 400 }, (_, i) => i + 1);

  it("the random lives reach every ending, over several attempts", () => {
    const endings = new Set<string>();
    let retried = 0;
    for (const seed of seeds) {
      const h = simulate(seed);
      endings.add(`${h.life.status}/${h.life.error?.reason ?? "-"}`);
      if (h.life.attempt > 1) retried += 1;
    }
    expect([...endings]).toEqual(
      expect.arrayContaining([
        "completed/-",
        "cancelled/cancelled",
        "cancelled/cancelled_on_edge",
        "failed/ack_timeout",
        "failed/lease_expired",
        "failed/deadline_exceeded",
        "failed/queue_timeout",
        "failed/tool_error",
        "failed/host_down",
      ]),
    );
    expect(retried).toBeGreaterThan(50);
  });

  it("in central's order (the cursor), for 400 random lives", () => {
    for (const seed of seeds) {
      const h = simulate(seed);
      if (h.log.length === 0) continue;
      const withCursor = h.log.map((e, i) => ({ ...e, cursor: i + 1 }));
      const replayed = replayRun(withCursor, blank(h));
      expect({ seed, ...view(replayed) }).toEqual({ seed, ...view(h.life) });
    }
  });

  it("after every step, too (a claim is not logged: dispatched and running read alike)", () => {
    const held = (v: ReturnType<typeof view>) => ({
      ...v,
      status: v.status === "dispatched" ? "running" : v.status,
    });
    for (const seed of seeds.slice(0, 100)) {
      simulate(seed, (h) => {
        if (h.log.length === 0) return;
        const replayed = replayRun(
          h.log.map((e, i) => ({ ...e, cursor: i + 1 })),
          blank(h),
        );
        expect({ seed, at: h.log.length, ...held(view(replayed)) }).toEqual({
          seed,
          at: h.log.length,
          ...held(view(h.life)),
        });
      });
    }
  });

  it("without cursors (an outbox mixed with central's log), for the same lives", () => {
    for (const seed of seeds) {
      const h = simulate(seed);
      if (h.log.length === 0) continue;
      const shuffled = [...h.log].reverse();
      const replayed = replayRun(inLogOrder(shuffled), blank(h));
      expect({ seed, status: view(replayed).status, usage: view(replayed).usage }).toEqual({
        seed,
        status: view(h.life).status,
        usage: view(h.life).usage,
      });
    }
  });
});

/** The run as memory first meets it: nothing but its id (central's queueing is not an event). */
function blank(h: OwnerHarness): RunLife {
  return blankRun(h.life.run_id, h.life.tenant, h.life.created_at);
}

describe("the kinds a fold reads", () => {
  const others = EVENT_KINDS.filter((k) => !(FOLDED_KINDS as readonly string[]).includes(k));

  it("no other kind changes a run, whatever its state", () => {
    expect(others.length).toBeGreaterThan(10);
    for (const seed of [1, 2, 3, 7, 11]) {
      const h = simulate(seed);
      for (const kind of others) {
        const e = edgeEvent(h.life.run_id, kind, PAYLOADS[kind], {
          agent: "a1",
          attempt: h.life.attempt || null,
          at: h.now,
        });
        expect({ kind, life: replayRun([e], h.life) }).toEqual({ kind, life: h.life });
      }
    }
  });

  it("a run replayed from them alone is the run replayed from its whole log", () => {
    for (const seed of Array.from({ length: 200 }, (_, i) => i + 1)) {
      const h = simulate(seed);
      if (h.log.length === 0) continue;
      // Every other kind in between, with the attempts and times of the events around it.
      const whole = h.log.flatMap((e, i) => [
        e,
        edgeEvent(h.life.run_id, others[i % others.length]!, PAYLOADS[others[i % others.length]!], {
          agent: e.agent_id,
          attempt: e.attempt,
          at: Date.parse(e.ts),
          seq: e.seq + 1,
        }),
      ]);
      for (const log of [whole.map((e, i) => ({ ...e, cursor: i + 1 })), whole]) {
        const only = log.filter((e) => (FOLDED_KINDS as readonly string[]).includes(e.kind));
        expect({ seed, life: replayRun(only, blank(h)) }).toEqual({
          seed,
          life: replayRun(log, blank(h)),
        });
      }
    }
  });
});
