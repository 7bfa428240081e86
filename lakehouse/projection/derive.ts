/**
 * The SQL that derives the projection's tables, for the runs a batch touched. It reads temporary
 * tables the commit prepares: `batch` (the batch's new events, typed), `run_events` (every event
 * of the touched runs: the batch's and those already in the lake), `run_facts` (per run, below),
 * and what the fold made of each run (`fold-runs.ts`: `folded_events`, the events it read with
 * their payloads parsed, and `folded_rows`). Deriving whole runs from their events, rather than
 * patching rows, is what makes a re-run, an incremental sync and a rebuild produce the same rows.
 */

import { sqlString } from "../lake/location";
import { blankRunState } from "./fold-runs";

/** Per touched run, what needs no payload: tenant, first and last event, how many events. */
export const RUN_FACTS = `
CREATE OR REPLACE TEMP TABLE run_facts AS
SELECT run_id, any_value(tenant) AS tenant, min(ts) AS created_at, max(ts) AS last_event_at,
  count(*) AS events, bool_and(cursor IS NOT NULL) AS cursored
FROM run_events
GROUP BY run_id`;

/** A run with no event the fold reads yet (its start is in a later batch) is the blank run. */
const blank = (() => {
  const { life, state } = blankRunState();
  const u = state.usage;
  return {
    status: sqlString(state.status),
    intent_status: sqlString(life.intent_status),
    attempts: String(life.attempt),
    cost_usd: u.cost_usd === null ? "NULL" : String(u.cost_usd),
    count: (field: Exclude<keyof typeof u, "cost_usd">) => String(u[field]),
  };
})();

/** Epoch milliseconds (as the fold keeps times) as a timestamp. */
const instant = (column: string) => `make_timestamptz((${column} * 1000)::BIGINT)`;

/**
 * One row per touched run, ready for `memory.runs`: its status, attempts, times, usage, error
 * and result are the fold's (`folded_rows`, as `runStateOf` gives them); the model a start
 * names, blocked tool calls, event counts and the duration an end reports are read here.
 */
export const NEW_RUNS = `
CREATE OR REPLACE TEMP TABLE new_runs AS
WITH taken AS (
  SELECT run_id,
    arg_max(p.model, ts) FILTER (WHERE kind = 'run_started' AND p.model IS NOT NULL) AS model,
    count(*) FILTER (WHERE kind = 'tool_call_finished' AND p.status = 'blocked') AS blocked_tool_calls
  FROM folded_events
  GROUP BY run_id
),
folded AS (
  SELECT * REPLACE (run_id::UUID AS run_id, settled_event_id::UUID AS settled_event_id,
    ${instant("dispatched_at")} AS dispatched_at, ${instant("started_at")} AS started_at,
    ${instant("finished_at")} AS finished_at)
  FROM folded_rows
)
SELECT r.run_id, r.tenant, f.intent_id::UUID AS intent_id, f.app, f.agent_id, f.intent_type,
  t.model,
  coalesce(f.status, ${blank.status}) AS status, coalesce(f.attempts, ${blank.attempts}) AS attempts,
  r.created_at, f.dispatched_at, f.started_at, f.finished_at, r.last_event_at,
  coalesce(date_diff('millisecond', f.started_at, f.finished_at), s.p.duration_ms) AS duration_ms,
  coalesce(f.tokens_in, ${blank.count("tokens_in")})::BIGINT AS tokens_in,
  coalesce(f.tokens_out, ${blank.count("tokens_out")})::BIGINT AS tokens_out,
  coalesce(f.cache_read_tokens, ${blank.count("cache_read_tokens")})::BIGINT AS cache_read_tokens,
  coalesce(f.cache_write_tokens, ${blank.count("cache_write_tokens")})::BIGINT AS cache_write_tokens,
  CASE WHEN f.run_id IS NULL THEN ${blank.cost_usd} ELSE f.cost_usd END AS cost_usd,
  coalesce(f.model_calls, ${blank.count("model_calls")}) AS model_calls,
  coalesce(f.tool_calls, ${blank.count("tool_calls")}) AS tool_calls,
  coalesce(t.blocked_tool_calls, 0) AS blocked_tool_calls,
  f.error_category, f.error_reason, f.error_message, f.result,
  r.events, f.settled_event_id,
  coalesce(from_json(f.anomalies, '["VARCHAR"]'), []::VARCHAR[]) AS anomalies,
  coalesce(f.intent_status, ${blank.intent_status}) AS intent_status,
  f.settled_projection_id::UUID AS settled_projection_id
FROM run_facts r
LEFT JOIN folded f USING (run_id)
LEFT JOIN taken t USING (run_id)
LEFT JOIN folded_events s ON s.event_id = f.settled_event_id`;

export const INSERT_RUNS = `
INSERT INTO memory.runs BY NAME
SELECT * EXCLUDE (intent_status, settled_projection_id) FROM new_runs`;

/** Intents are one-to-one with runs (a fork is a new intent); their status is the intent machine's. */
export const INSERT_INTENTS = `
INSERT INTO memory.intents BY NAME
SELECT intent_id,
  arg_max(tenant, created_at) AS tenant,
  arg_max(app, created_at) AS app,
  arg_max(intent_type, created_at) AS intent_type,
  arg_max(intent_status, created_at) AS status,
  arg_max(run_id, created_at) AS run_id,
  sum(attempts) AS attempts,
  min(created_at) AS created_at,
  max(finished_at) AS finished_at,
  sum(tokens_in) AS tokens_in,
  sum(tokens_out) AS tokens_out,
  CASE WHEN bool_or(cost_usd IS NULL) THEN NULL ELSE sum(cost_usd) END AS cost_usd
FROM new_runs
WHERE intent_id IS NOT NULL
GROUP BY intent_id`;

export const INSERT_TOOL_CALLS = `
INSERT INTO memory.tool_calls BY NAME
WITH steps AS (
  SELECT run_id, tenant, agent_id, attempt, kind, ts,
    from_json(payload, '{"tool_call_id":"VARCHAR","tool":"VARCHAR","tool_type":"VARCHAR","arguments":"VARCHAR","args_digest":"VARCHAR","status":"VARCHAR","result":"VARCHAR","error_message":"VARCHAR","error_type":"VARCHAR","duration_ms":"BIGINT","blocked_by":"VARCHAR"}') AS p
  FROM run_events
  WHERE kind IN ('tool_call_started', 'tool_call_progress', 'tool_call_finished')
),
calls AS (
  SELECT run_id, p.tool_call_id AS tool_call_id,
    any_value(tenant) AS tenant,
    arg_min(agent_id, ts) AS agent_id,
    max(attempt) AS attempt,
    coalesce(arg_min(p.tool, ts) FILTER (WHERE kind = 'tool_call_started'), arg_max(p.tool, ts)) AS tool,
    arg_min(p.tool_type, ts) FILTER (WHERE kind = 'tool_call_started') AS tool_type,
    arg_min(p.args_digest, ts) FILTER (WHERE kind = 'tool_call_started') AS args_digest,
    arg_min(p.arguments, ts) FILTER (WHERE kind = 'tool_call_started') AS arguments,
    coalesce(min(ts) FILTER (WHERE kind = 'tool_call_started'), min(ts)) AS started_at,
    max(ts) FILTER (WHERE kind = 'tool_call_finished') AS finished_at,
    arg_max(p.status, ts) FILTER (WHERE kind = 'tool_call_finished') AS finished_status,
    arg_max(p.duration_ms, ts) FILTER (WHERE kind = 'tool_call_finished') AS duration_ms,
    arg_max(p.blocked_by, ts) FILTER (WHERE kind = 'tool_call_finished') AS blocked_by,
    arg_max(p.error_type, ts) FILTER (WHERE kind = 'tool_call_finished') AS error_type,
    arg_max(p.error_message, ts) FILTER (WHERE kind = 'tool_call_finished') AS error_message,
    arg_max(p.result, ts) FILTER (WHERE kind = 'tool_call_finished') AS result,
    count(*) FILTER (WHERE kind = 'tool_call_progress') AS progress_events
  FROM steps
  GROUP BY run_id, p.tool_call_id
),
decisions AS (
  SELECT run_id, ts,
    from_json(payload, '{"tool_call_id":"VARCHAR","decision":{"effect":"VARCHAR","rule_id":"VARCHAR","reason":"VARCHAR"}}') AS p
  FROM run_events
  WHERE kind = 'policy_decision'
),
denials AS (
  SELECT run_id, p.tool_call_id AS tool_call_id,
    arg_max(p.decision.rule_id, ts) AS rule_id,
    arg_max(p.decision.reason, ts) AS reason
  FROM decisions
  WHERE p.decision.effect = 'deny' AND p.tool_call_id IS NOT NULL
  GROUP BY ALL
)
SELECT c.run_id, c.tool_call_id, c.tenant, r.app, c.agent_id, c.attempt, c.tool, c.tool_type,
  c.args_digest, c.arguments, c.started_at, c.finished_at, c.duration_ms,
  coalesce(c.finished_status, 'running') AS status,
  c.finished_status = 'ok' AS ok,
  coalesce(c.finished_status = 'blocked', false) OR d.rule_id IS NOT NULL AS blocked,
  coalesce(c.blocked_by, d.rule_id) AS blocked_by,
  d.reason AS policy_reason,
  c.error_type, c.error_message, c.result, c.progress_events
FROM calls c
JOIN new_runs r USING (run_id)
LEFT JOIN denials d USING (run_id, tool_call_id)`;

const MODEL_CALL_FIELDS =
  '{"call_id":"VARCHAR","operation":"VARCHAR","provider":"VARCHAR","request_model":"VARCHAR","response_model":"VARCHAR","alias":"VARCHAR","stream":"BOOLEAN","input_tokens":"BIGINT","output_tokens":"BIGINT","cache_read_tokens":"BIGINT","cache_write_tokens":"BIGINT","cost_usd":"DOUBLE","latency_ms":"BIGINT","ttft_ms":"BIGINT","cache_hit":"BOOLEAN","attempts":[{"provider":"VARCHAR","model":"VARCHAR","outcome":"VARCHAR"}],"finish_reasons":["VARCHAR"],"error_type":"VARCHAR","observer":"VARCHAR","scripted":"BOOLEAN","app":"VARCHAR"}';

/**
 * Model calls of the touched runs, and the batch's calls that belong to no run (their app is the
 * one the gateway attributed, when it did).
 */
export const INSERT_MODEL_CALLS = `
INSERT INTO memory.model_calls BY NAME
WITH calls AS (
  SELECT event_id, run_id, tenant, agent_id, attempt, ts, from_json(payload, '${MODEL_CALL_FIELDS}') AS p
  FROM (
    SELECT * FROM run_events WHERE kind = 'model_call'
    UNION ALL BY NAME
    SELECT * EXCLUDE (origin) FROM batch WHERE kind = 'model_call' AND run_id IS NULL
  )
)
SELECT c.event_id, c.run_id, c.tenant, coalesce(r.app, p.app) AS app, c.agent_id, c.attempt, c.ts,
  p.call_id, p.operation, p.provider, p.request_model, p.response_model,
  coalesce(p.response_model, p.request_model) AS model, p.alias, p.stream,
  p.input_tokens, p.output_tokens, p.cache_read_tokens, p.cache_write_tokens, p.cost_usd,
  p.latency_ms, p.ttft_ms, p.cache_hit,
  len(p.attempts) AS upstream_attempts,
  greatest(len(p.attempts) - 1, 0) AS fallbacks,
  list_transform(p.attempts, a -> a.provider || '/' || a.model) AS upstream_chain,
  p.finish_reasons, p.error_type, p.observer, p.scripted
FROM calls c
LEFT JOIN new_runs r USING (run_id)`;

/** Policy decisions of the touched runs, and the batch's decisions outside any run. */
export const INSERT_POLICY_DECISIONS = `
INSERT INTO memory.policy_decisions BY NAME
WITH decisions AS (
  SELECT event_id, run_id, tenant, agent_id, source, ts,
    from_json(payload, '{"hook":"VARCHAR","decision":{"effect":"VARCHAR","rule_id":"VARCHAR","reason":"VARCHAR"},"tool":"VARCHAR","tool_call_id":"VARCHAR","subject":"VARCHAR"}') AS p
  FROM (
    SELECT * FROM run_events WHERE kind = 'policy_decision'
    UNION ALL BY NAME
    SELECT * EXCLUDE (origin) FROM batch WHERE kind = 'policy_decision' AND run_id IS NULL
  )
)
SELECT d.event_id, d.run_id, d.tenant, r.app, d.agent_id, d.source, d.ts, p.hook,
  p.decision.effect AS effect, p.decision.rule_id AS rule_id, p.decision.reason AS reason,
  p.tool, p.tool_call_id, p.subject
FROM decisions d
LEFT JOIN new_runs r USING (run_id)`;

/** A `memory.runs` ProjectionEvent for every settled run, derived from the event that settled it. */
export const INSERT_PROJECTIONS = `
INSERT INTO memory.projections BY NAME
SELECT settled_projection_id AS event_id, 'memory' AS domain, 'memory.runs' AS projection,
  json_object(
    'run_id', run_id::VARCHAR, 'status', status, 'app', app, 'agent_id', agent_id,
    'intent_id', intent_id::VARCHAR, 'intent_type', intent_type, 'attempts', attempts,
    'duration_ms', duration_ms, 'tokens_in', tokens_in, 'tokens_out', tokens_out,
    'cost_usd', cost_usd, 'error_reason', error_reason
  ) AS payload,
  finished_at AS ts, settled_event_id AS source_event_id, run_id
FROM new_runs
WHERE settled_projection_id IS NOT NULL`;

/**
 * Rows of runs already in the lake that the batch touched, removed before they are derived
 * again. Every row of a run is dated at or after the run's first event, so `since` (the
 * earliest `created_at` of those runs, as a SQL literal) lets DuckLake skip older files.
 */
export function deleteTouched(since: string): string[] {
  return [
    `DELETE FROM memory.intents WHERE intent_id IN (SELECT intent_id FROM touched_intents) AND created_at >= ${since}`,
    `DELETE FROM memory.runs WHERE run_id IN (SELECT run_id FROM existing) AND created_at >= ${since}`,
    `DELETE FROM memory.tool_calls WHERE run_id IN (SELECT run_id FROM existing) AND started_at >= ${since}`,
    `DELETE FROM memory.model_calls WHERE run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`,
    `DELETE FROM memory.policy_decisions WHERE run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`,
    `DELETE FROM memory.projections WHERE run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`,
  ];
}
