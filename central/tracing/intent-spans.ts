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

/**
 * The spans of an intent's way through central: `queue <app>` from the moment the run could go
 * out (its creation, or the end of a retry's backoff) to its dispatch, and `dispatch <app>` (a
 * producer span: the agent chosen, the frame sent), both children of the trace the intent was
 * submitted in. An intent submitted without one gets a trace of its own whose id is its run's
 * (a UUID is 128 bits, like a trace id), so every attempt of a run is one trace without central
 * keeping a span anywhere.
 */
export function dispatchSpans(
  recorder: SpanRecorder,
  tenant: string,
  run: {
    life: Pick<RunLife, "run_id">;
    intent: Intent;
    attempt: number;
    eligibleAt: number | null;
  },
  agent: { agentId: string; app: string },
): DispatchSpans {
  const { life, intent, attempt } = run;
  const now = recorder.now();
  const attributes = {
    "auraison.tenant": tenant,
    "auraison.run_id": life.run_id,
    "auraison.intent_id": intent.intent_id,
    "auraison.intent_type": intent.type,
    "auraison.attempt": attempt,
    "auraison.app": agent.app,
  };
  const parent = intent.trace ?? null;
  const traceId = life.run_id.replaceAll("-", "");
  const dispatch = recorder.start(`dispatch ${agent.app}`, {
    kind: SpanKind.producer,
    parent,
    traceId,
    startMs: now,
    attributes: { ...attributes, "auraison.agent_id": agent.agentId },
  });
  return {
    trace: dispatch.traceContext(),
    sent(ok) {
      if (!ok) {
        dispatch.fail("agent_gone").end();
        return;
      }
      dispatch.end();
      recorder
        .start(`queue ${agent.app}`, {
          parent,
          traceId,
          startMs: Math.min(run.eligibleAt ?? now, now),
          attributes: { ...attributes, "auraison.retry": attempt > 1 },
        })
        .end(now);
    },
  };
}
