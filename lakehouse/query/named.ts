import { sqlString } from "../lake/location";

/**
 * The daily questions, over the views the lake ships (see schema/0002-views.ts), so the CLI
 * prints what a notebook reading the same views gets. Rollup views are hourly: `since` counts
 * from the start of its hour.
 */
export interface NamedQueryOptions {
  since?: Date;
  app?: string;
  limit?: number;
}

/**
 * Runs that failed since a time: settled then, or, for a failure central has not ruled on yet
 * (a log of outboxes alone: no `finished_at`), reported then (its run's last event). Those few
 * are looked up apart: a lookup for every failed run made the query half as slow again.
 */
export function failedRunsSql(o: NamedQueryOptions): string {
  const at = o.since && `${sqlString(o.since.toISOString())}::TIMESTAMPTZ`;
  const since = at
    ? `(finished_at >= ${at} OR (finished_at IS NULL AND run_id IN (SELECT run_id FROM memory.runs
        WHERE status = 'failed' AND finished_at IS NULL AND last_event_at >= ${at})))`
    : "true";
  return `SELECT run_id, app, agent_id, intent_type, attempts, finished_at, duration_ms,
      error_category, error_reason, error_message, tokens, cost_usd
    FROM memory.failed_runs
    WHERE ${since} AND ${filters({ ...o, since: undefined }, "finished_at")}
    ORDER BY finished_at DESC NULLS LAST
    LIMIT ${limit(o)}`;
}

export function runsSql(o: NamedQueryOptions & { status?: string }): string {
  const status = o.status ? `status = ${sqlString(o.status)}` : "true";
  return `SELECT run_id, status, app, agent_id, intent_type, attempts, created_at, finished_at,
      duration_ms, tokens_in + tokens_out AS tokens, cost_usd, error_reason
    FROM memory.runs
    WHERE ${filters(o, "created_at")} AND ${status}
    ORDER BY created_at DESC
    LIMIT ${limit(o)}`;
}

export function costsSql(o: NamedQueryOptions): string {
  return `SELECT app, provider, model, sum(calls) AS calls, sum(tokens_in) AS tokens_in,
      sum(tokens_out) AS tokens_out, sum(cost_usd) AS cost_usd,
      sum(unpriced_calls) AS unpriced_calls, sum(fallbacks) AS fallbacks,
      sum(cache_hits) AS cache_hits
    FROM memory.cost_by_app_model
    WHERE ${filters(o, "hour", true)}
    GROUP BY ALL
    ORDER BY cost_usd DESC NULLS LAST, calls DESC`;
}

export function slowToolsSql(o: NamedQueryOptions): string {
  return `SELECT tool, sum(calls) AS calls,
      round(sum(total_ms) / nullif(sum(calls), 0))::BIGINT AS avg_ms, max(max_ms) AS max_ms,
      sum(errors) AS errors, sum(blocked) AS blocked
    FROM memory.slow_tools
    WHERE ${filters({ since: o.since }, "hour", true)}
    GROUP BY tool
    ORDER BY avg_ms DESC NULLS LAST
    LIMIT ${limit(o)}`;
}

export function denialsSql(o: NamedQueryOptions): string {
  return `SELECT ts, app, agent_id, run_id, hook, tool, rule_id, reason, subject
    FROM memory.policy_denials
    WHERE ${filters(o, "ts")}
    ORDER BY ts DESC
    LIMIT ${limit(o)}`;
}

function filters(o: NamedQueryOptions, time: string, hourly = false): string {
  const out: string[] = [];
  if (o.since) {
    const at = `${sqlString(o.since.toISOString())}::TIMESTAMPTZ`;
    out.push(`${time} >= ${hourly ? `date_trunc('hour', ${at})` : at}`);
  }
  if (o.app) out.push(`app = ${sqlString(o.app)}`);
  return out.length ? out.join(" AND ") : "true";
}

function limit(o: NamedQueryOptions): number {
  return Math.max(1, Math.min(100_000, Math.trunc(o.limit ?? 50)));
}
