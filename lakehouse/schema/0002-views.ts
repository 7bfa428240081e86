import { GATEWAY_PROVIDER } from "../../contract";
import type { Migration } from "./migration";

/**
 * The named queries people run daily, as views in the lake, so the DuckDB CLI and notebooks
 * attached to the same lake see exactly what `auraison memory runs|costs|slow-tools|denials`
 * prints. Views keep a time column (an instant, or an hour for rollups) to filter on; hourly
 * rollups hold only sums, counts and maxima, so any range of hours adds up exactly.
 */
export const views: Migration = {
  version: 2,
  name: "named query views",
  statements: [
    `CREATE VIEW memory.failed_runs AS
      SELECT run_id, app, agent_id, intent_type, attempts, started_at, finished_at, duration_ms,
             error_category, error_reason, error_message,
             tokens_in + tokens_out AS tokens, cost_usd, intent_id, tenant
      FROM memory.runs
      WHERE status = 'failed'`,

    // cost_usd sums priced calls only; unpriced_calls says how many had no known price. A call
    // through the gateway counts once, as the gateway saw it (the edge's view has no price).
    `CREATE VIEW memory.cost_by_app_model AS
      SELECT date_trunc('hour', ts) AS hour, app, provider, model,
             count(*) AS calls,
             sum(input_tokens) AS tokens_in,
             sum(output_tokens) AS tokens_out,
             sum(cache_read_tokens) AS cache_read_tokens,
             sum(cost_usd) AS cost_usd,
             count(*) FILTER (WHERE cost_usd IS NULL) AS unpriced_calls,
             sum(fallbacks) AS fallbacks,
             count(*) FILTER (WHERE cache_hit) AS cache_hits
      FROM memory.model_calls
      WHERE NOT (observer = 'edge' AND provider = '${GATEWAY_PROVIDER}')
      GROUP BY ALL`,

    `CREATE VIEW memory.slow_tools AS
      SELECT date_trunc('hour', started_at) AS hour, tool,
             count(*) FILTER (WHERE status IN ('ok', 'error')) AS calls,
             count(*) FILTER (WHERE status = 'error') AS errors,
             count(*) FILTER (WHERE blocked) AS blocked,
             coalesce(sum(duration_ms) FILTER (WHERE status IN ('ok', 'error')), 0) AS total_ms,
             max(duration_ms) FILTER (WHERE status IN ('ok', 'error')) AS max_ms
      FROM memory.tool_calls
      GROUP BY ALL`,

    `CREATE VIEW memory.policy_denials AS
      SELECT ts, app, agent_id, run_id, hook, tool, rule_id, reason, subject, tool_call_id,
             tenant, event_id
      FROM memory.policy_decisions
      WHERE effect = 'deny'`,
  ],
};
