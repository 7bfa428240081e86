import {
  type AgentEvent,
  blankRun,
  type EventPayload,
  nowTs,
  type RunLife,
  type RunState,
  replayRun,
  runStateOf,
  stepRun,
  type Usage,
  usageOf,
} from "../../contract";
import type { RunRecord } from "./run-record";

/**
 * The edge's view of one of its runs: the run's fold (contract/runs), followed over the events
 * this agent emits for it, as memory and central follow the log. Usage and cost are counted by
 * the one rule every runtime shares. Beside it, two counts the budget guard enforces that are
 * not usage: turns begun, and tool calls policy let through (a call counts from the moment it
 * is allowed, so a budget holds even while calls are in flight), and the budget dimensions the
 * run was warned about. Rebuilt from all of the run's events when a run is continued (after a
 * restart, or under a new attempt central dispatched), so budgets hold across restarts and
 * attempts, and its usage is the one replayRun gives every reader of the log.
 */
export class RunView {
  private life: RunLife;
  turns = 0;
  toolCallsAllowed = 0;
  readonly budgetWarned = new Set<EventPayload<"budget">["dimension"]>();

  constructor(runId: string, tenant: string, previous: readonly AgentEvent[] = []) {
    const blank = blankRun(runId, tenant, Date.now());
    this.life = previous.length > 0 ? replayRun(previous, blank) : blank;
    const blocked = new Set(
      previous.flatMap((e) =>
        e.kind === "tool_call_finished" && e.payload.status === "blocked"
          ? [e.payload.tool_call_id]
          : [],
      ),
    );
    for (const e of previous) {
      this.count(e);
      if (e.kind === "tool_call_started" && !blocked.has(e.payload.tool_call_id))
        this.toolCallsAllowed += 1;
    }
  }

  /** Folds one of the run's events in (the emitter calls this for each event it logged). */
  observe(event: AgentEvent): void {
    this.count(event);
    this.life = stepRun(this.life, { type: "events", events: [event] }, { role: "follower" }).life;
  }

  private count(event: AgentEvent): void {
    if (event.kind === "turn_started") this.turns += 1;
    if (event.kind === "budget" && event.payload.state === "warning")
      this.budgetWarned.add(event.payload.dimension);
  }

  get usage(): Usage {
    return usageOf(this.life.consumption);
  }

  /** Every prompt token (cached ones included) and every output token. */
  get tokens(): number {
    return this.life.consumption.tokens_in + this.life.consumption.tokens_out;
  }

  get state(): RunState {
    return runStateOf(this.life);
  }

  /**
   * A run's record once its terminal event is logged: what the fold says (status, result,
   * error, usage, tree), so the record and every reader of the log agree.
   */
  get outcome(): { status: RunState["status"]; changes: Partial<RunRecord> } {
    const { status, result, error, usage, tree_ref, timings } = this.state;
    return {
      status,
      changes: {
        result,
        error,
        usage,
        finished_at: timings.finished_at ?? nowTs(),
        ...(tree_ref ? { tree_ref } : {}),
      },
    };
  }
}
