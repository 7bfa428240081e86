import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import type { EventPayload } from "../../contract";
import type { RunContext } from "../runs/run-context";
import { type TimerAt, timerAt } from "../timer-at";
import type { EventBridge } from "./event-bridge";

type Dimension = EventPayload<"budget">["dimension"];

const WARN_AT = 0.8;

/**
 * Enforces the run's budget from its intent's policy_ctx (capped by the app): tokens and USD
 * after every model call, turns before every model call, tool calls through the policy's limits
 * rule, and wall time with a timer. 80% logs a warning; 100% logs `exceeded` and stops the run,
 * which then fails with reason budget_exceeded instead of hanging on.
 */
export class BudgetGuard {
  /** Warnings a continued run logged before (earlier attempts, restarts) are not logged again. */
  private readonly warned: Set<Dimension>;
  private timers: TimerAt[] = [];
  private unpricedNoted = false;

  constructor(
    private readonly run: RunContext,
    private readonly bridge: EventBridge,
    /** When the run first started (earlier than now for a resumed run). */
    private readonly startedAt: number,
  ) {
    this.warned = new Set(run.view.budgetWarned);
  }

  extension(): ExtensionFactory {
    const limits = this.run.budget;
    this.bridge.onModelCall(async ({ costUsd }) => {
      const view = this.run.view;
      if (limits.max_tokens !== undefined)
        await this.measure("tokens", view.tokens, limits.max_tokens);
      if (limits.max_cost_usd !== undefined) {
        if (costUsd === null && !this.unpricedNoted) {
          this.unpricedNoted = true;
          await this.run.emitter.emit("error", {
            category: "policy",
            code: "cost_unpriced",
            message:
              "the run has a USD budget but its model has no known price; cost cannot be enforced for unpriced calls",
            fatal: false,
            detail: null,
          });
        }
        const cost = view.usage.cost_usd;
        if (cost !== null) await this.measure("cost_usd", cost, limits.max_cost_usd);
      }
    });
    this.bridge.onToolFinished(async () => {
      if (limits.max_tool_calls !== undefined)
        await this.warnOnly("tool_calls", this.run.view.toolCallsAllowed, limits.max_tool_calls);
    });
    // `context` fires right before each model call (one per turn), so a run out of turns is
    // stopped before the call is made rather than after it was paid for.
    let calls = this.run.view.turns;
    return (pi: ExtensionAPI) => {
      pi.on("context", async () => {
        if (limits.max_turns === undefined) return undefined;
        calls += 1;
        if (calls > limits.max_turns) await this.exceed("turns", calls - 1, limits.max_turns);
        else await this.warnOnly("turns", calls, limits.max_turns);
        return undefined;
      });
    };
  }

  /** Starts the wall-time clock; a resumed run continues from its original start. */
  start(): void {
    const max = this.run.budget.max_wall_ms;
    if (max === undefined) return;
    const elapsed = Date.now() - this.startedAt;
    const at = (fraction: number, fire: () => void) => {
      this.timers.push(timerAt(this.startedAt + max * fraction, fire));
    };
    if (elapsed < max * WARN_AT)
      at(WARN_AT, () => void this.warnOnly("wall_ms", Date.now() - this.startedAt, max));
    at(1, () => void this.exceed("wall_ms", Date.now() - this.startedAt, max));
  }

  /** The policy refused a call for the tool-call budget. */
  async toolCallsExhausted(): Promise<void> {
    const max = this.run.budget.max_tool_calls;
    if (max !== undefined) await this.exceed("tool_calls", this.run.view.toolCallsAllowed, max);
  }

  dispose(): void {
    for (const timer of this.timers) timer.cancel();
    this.timers = [];
  }

  private async measure(dimension: Dimension, used: number, limit: number): Promise<void> {
    if (used >= limit) await this.exceed(dimension, used, limit);
    else await this.warnOnly(dimension, used, limit);
  }

  private async warnOnly(dimension: Dimension, used: number, limit: number): Promise<void> {
    if (used < limit * WARN_AT || this.warned.has(dimension)) return;
    this.warned.add(dimension);
    await this.run.emitter.emit("budget", {
      dimension,
      used,
      limit,
      state: "warning",
      scope: "run",
    });
  }

  private async exceed(dimension: Dimension, used: number, limit: number): Promise<void> {
    if (this.run.control.stopped) return;
    this.dispose();
    await this.run.emitter.emit("budget", {
      dimension,
      used,
      limit,
      state: "exceeded",
      scope: "run",
    });
    this.run.control.stop({
      kind: "fail",
      error: {
        category: "budget_exceeded",
        reason: "budget_exceeded",
        message: `${dimension} budget exceeded: used ${round(used)} of ${round(limit)}`,
      },
    });
  }
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(6);
}
