import { type AgentEvent, addUsage, emptyUsage, type Usage } from "../../contract";

/**
 * What a run has consumed so far: the contract Usage plus turns. Rebuilt from the run's own
 * events when a run is resumed, so budgets hold across restarts.
 */
export class RunUsage {
  totals: Usage = emptyUsage();
  turns = 0;

  /**
   * The tokens a budget counts: every prompt token and every output token. pi-ai reports cached
   * prompt tokens apart from `input` (read from or written to the provider's cache), and a
   * cached prompt is still a prompt the model processed.
   */
  get tokens(): number {
    const t = this.totals;
    return t.tokens_in + t.cache_read_tokens + t.cache_write_tokens + t.tokens_out;
  }

  addModelCall(call: {
    input: number;
    output: number;
    cacheRead: number;
    cacheWrite: number;
    costUsd: number | null;
  }): void {
    this.totals = addUsage(this.totals, {
      tokens_in: call.input,
      tokens_out: call.output,
      cache_read_tokens: call.cacheRead,
      cache_write_tokens: call.cacheWrite,
      cost_usd: call.costUsd,
      model_calls: 1,
      tool_calls: 0,
    });
  }

  addToolCall(): void {
    this.totals = { ...this.totals, tool_calls: this.totals.tool_calls + 1 };
  }

  static fromEvents(events: readonly AgentEvent[]): RunUsage {
    const usage = new RunUsage();
    const blocked = new Set<string>();
    for (const e of events) {
      if (e.kind === "tool_call_finished" && e.payload.status === "blocked")
        blocked.add(e.payload.tool_call_id);
    }
    for (const e of events) {
      if (e.kind === "turn_started") usage.turns += 1;
      else if (e.kind === "model_call")
        usage.addModelCall({
          input: e.payload.input_tokens,
          output: e.payload.output_tokens,
          cacheRead: e.payload.cache_read_tokens,
          cacheWrite: e.payload.cache_write_tokens,
          costUsd: e.payload.cost_usd,
        });
      else if (e.kind === "tool_call_started" && !blocked.has(e.payload.tool_call_id))
        usage.addToolCall();
    }
    return usage;
  }
}
