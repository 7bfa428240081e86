import type { Intent, RunLife, TraceContext } from "../../contract";
import type { SpanRecorder } from "./recorder";
import { SpanKind } from "./span";

/** One dispatch of a queued run to an agent, as central's spans see it. */
export interface DispatchSpans {
  /** What the dispatch frame carries on: the edge's `invoke_agent` span is its child. */
  trace: TraceContext;
  /** The frame went out (or not: the agent's socket was gone). */
  sent(ok: boolean): void;
}

/** A queued run as its spans need it. */
export interface QueuedRun {
  life: Pick<RunLife, "run_id" | "targets">;
  intent: Intent;
  attempt: number;
  /** When it could go out: its creation, or the end of a retry's backoff (null: not known). */
  eligibleAt: number | null;
}

/**
 * The spans of an intent's way through central: `queue <app>` from the moment the run could go
 * out to its dispatch (or to the end of its wait, when it was cancelled or timed out in the
 * queue), and `dispatch <app>` (a producer span: the agent chosen, the frame sent), both
 * children of the trace the intent was submitted in. An intent submitted without one gets a
 * trace of its own whose id is its run's (a UUID is 128 bits, like a trace id), so every attempt
 * of a run is one trace without central keeping a span anywhere.
 */
export function dispatchSpans(
  recorder: SpanRecorder,
  tenant: string,
  run: QueuedRun,
  agent: { agentId: string; app: string },
  /** The same attempt sent again to an agent that reconnected without it: no queue wait. */
  again = false,
): DispatchSpans {
  const now = recorder.now();
  const dispatch = recorder.start(`dispatch ${agent.app}`, {
    kind: SpanKind.producer,
    ...placed(run),
    startMs: now,
    attributes: {
      ...attributesOf(tenant, run, agent.app),
      "auraison.agent_id": agent.agentId,
      ...(again ? { "auraison.dispatch.again": true } : {}),
    },
  });
  return {
    trace: dispatch.traceContext(),
    sent(ok) {
      if (!ok) {
        dispatch.fail("agent_gone").end();
        return;
      }
      dispatch.end();
      if (!again) queueSpan(recorder, tenant, run, agent.app, now);
    },
  };
}

/** A queued run left the queue without going out: its wait, ended by `outcome`. */
export function queueLeft(
  recorder: SpanRecorder,
  tenant: string,
  run: QueuedRun,
  outcome: string,
): void {
  const app = run.life.targets.flatMap((t) => ("app" in t && t.app ? [t.app] : []))[0] ?? "intent";
  queueSpan(recorder, tenant, run, app, recorder.now(), outcome);
}

function queueSpan(
  recorder: SpanRecorder,
  tenant: string,
  run: QueuedRun,
  app: string,
  now: number,
  failure?: string,
): void {
  const span = recorder.start(`queue ${app}`, {
    ...placed(run),
    startMs: Math.min(run.eligibleAt ?? now, now),
    attributes: { ...attributesOf(tenant, run, app), "auraison.retry": run.attempt > 1 },
  });
  if (failure) span.fail(failure);
  span.end(now);
}

function placed(run: QueuedRun) {
  return { parent: run.intent.trace ?? null, traceId: run.life.run_id.replaceAll("-", "") };
}

function attributesOf(tenant: string, run: QueuedRun, app: string) {
  return {
    "auraison.tenant": tenant,
    "auraison.run_id": run.life.run_id,
    "auraison.intent_id": run.intent.intent_id,
    "auraison.intent_type": run.intent.type,
    "auraison.attempt": run.attempt,
    "auraison.app": app,
  };
}
