import {
  emptyUsage,
  newPlan,
  type Plan,
  type PlanEffect,
  type PlanInput,
  PlanRequest,
  type RunState,
  stepPlan,
  type Usage,
  uuidv7,
} from "../../../contract";

export const T0 = Date.parse("2026-12-01T09:00:00.000Z");

let ids = 0;
const nextId = () => `00000000-0000-7000-9000-${(++ids).toString(16).padStart(12, "0")}`;

/** Central as a plan's owner, with an injected clock; submitted steps become fake runs. */
export class PlanHarness {
  now = T0;
  plan: Plan;
  effects: PlanEffect[] = [];
  refusal: string | null = null;
  /** Runs made for submitted steps, by step id (latest attempt). */
  readonly runs = new Map<string, { run_id: string; intent_id: string; attempt: number }>();
  readonly submitted: Extract<PlanEffect, { type: "submit" }>[] = [];

  constructor(request: Record<string, unknown>) {
    this.plan = newPlan({
      plan_id: uuidv7(T0),
      tenant: "lab",
      request: PlanRequest.parse(request),
      principal: "key_op",
      now: T0,
    });
  }

  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  step(input: PlanInput): PlanEffect[] {
    const result = stepPlan(this.plan, input, { now: this.now, newEventId: nextId });
    this.plan = result.plan;
    this.effects = result.effects;
    this.refusal = result.refusal;
    // Central submits each step's intent at once and tells the plan which run it became.
    for (const effect of result.effects) {
      if (effect.type !== "submit") continue;
      this.submitted.push(effect);
      const run = {
        run_id: uuidv7(this.now),
        intent_id: uuidv7(this.now),
        attempt: effect.attempt,
      };
      this.runs.set(effect.step_id, run);
      this.step({ type: "submitted", step_id: effect.step_id, ...run });
      this.effects = [...result.effects];
    }
    return result.effects;
  }

  /**
   * The step's current run settles (or reports usage); `pricedUsd` is what its priced calls
   * cost when its usage shows no total (some call was unpriced).
   */
  run(
    stepId: string,
    status: RunState["status"],
    extra: Partial<RunState> = {},
    pricedUsd?: number,
  ): void {
    const run = this.runs.get(stepId)!;
    this.step({
      type: "run",
      ...(pricedUsd === undefined ? {} : { priced_usd: pricedUsd }),
      run: {
        run_id: run.run_id,
        intent_id: run.intent_id,
        tenant: "lab",
        app: "lab-notes",
        agent_id: "a1",
        targets: [{ app: "lab-notes" }],
        tree_ref: null,
        status,
        attempt: 1,
        lease: null,
        timings: {
          created_at: new Date(T0).toISOString(),
          dispatched_at: null,
          started_at: null,
          finished_at: null,
        },
        usage: emptyUsage(),
        error:
          status === "failed"
            ? { category: "tool", reason: "tool_error", message: `${stepId} broke` }
            : null,
        result: status === "completed" ? `${stepId} done` : null,
        waiting: null,
        ...extra,
      },
    });
  }

  status(id: string): string | undefined {
    return this.plan.steps.find((s) => s.id === id)?.status;
  }

  kinds(): string[] {
    return this.effects.map((e) => (e.type === "emit" ? e.event.kind : e.type));
  }
}

export function tokens(n: number): Usage {
  return { ...emptyUsage(), tokens_in: n };
}

/** A step spec with defaults, for a given plan. */
export function spec(id: string, extra: Record<string, unknown> = {}) {
  return { id, targets: [{ app: "lab-notes" }], params: { prompt: id }, ...extra };
}
