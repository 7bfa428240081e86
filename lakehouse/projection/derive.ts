/**
 * The SQL that derives the projection's tables, for the runs a batch touched. It reads temporary
 * tables the commit prepares: `batch` (the batch's new events, typed), `run_events` (every event
 * of the touched runs: the batch's and those already in the lake), `run_facts` and the parsed
 * payloads (below), and what the fold made of each run (`fold-runs.ts`: `folded_rows`). An
 * intent's row reads every run of it, those the lake has and the batch did not touch included.
 * Deriving whole runs from their events, rather than patching rows, is what makes a re-run, an
 * incremental sync and a rebuild produce the same rows.
 */

import { FOLDED_KINDS } from "../../contract";
import { sqlString } from "../lake/location";
import { blankRunState } from "./fold-runs";

/** Per touched run, what needs no payload: tenant, first and last event, how many events. */
export const RUN_FACTS = `
CREATE OR REPLACE TEMP TABLE run_facts AS
SELECT run_id, any_value(tenant) AS tenant, min(ts) AS created_at, max(ts) AS last_event_at,
  count(*) AS events, bool_and(cursor IS NOT NULL) AS cursored
FROM run_events
GROUP BY run_id`;

/** What the derived tables and the fold read of payloads, by group of kinds (see PAYLOADS). */
const RUN_FIELDS = {
  // The fold's (contract/runs/step.ts); `tree_ref` and `forked_from` it only stores.
  intent_id: "VARCHAR",
  agent_id: "VARCHAR",
  app: "VARCHAR",
  attempt: "INTEGER",
  ack_deadline: "VARCHAR",
  intent_type: "VARCHAR",
  origin: "VARCHAR",
  result: "VARCHAR",
  error: { category: "VARCHAR", reason: "VARCHAR", message: "VARCHAR" },
  reason: "VARCHAR",
  cause: "VARCHAR",
  retry_at: "VARCHAR",
  // runs
  model: "VARCHAR",
  duration_ms: "BIGINT",
};
const CALL_FIELDS = {
  // The fold's
  call_id: "VARCHAR",
  observer: "VARCHAR",
  provider: "VARCHAR",
  input_tokens: "BIGINT",
  output_tokens: "BIGINT",
  cache_read_tokens: "BIGINT",
  cache_write_tokens: "BIGINT",
  cost_usd: "DOUBLE",
  gateway_call_id: "VARCHAR",
  // model_calls
  app: "VARCHAR",
  operation: "VARCHAR",
  request_model: "VARCHAR",
  response_model: "VARCHAR",
  alias: "VARCHAR",
  stream: "BOOLEAN",
  latency_ms: "BIGINT",
  ttft_ms: "BIGINT",
  cache_hit: "BOOLEAN",
  attempts: [
    {
      provider: "VARCHAR",
      model: "VARCHAR",
      outcome: "VARCHAR",
      input_tokens: "BIGINT",
      output_tokens: "BIGINT",
      cache_read_tokens: "BIGINT",
      cache_write_tokens: "BIGINT",
      cost_usd: "DOUBLE",
    },
  ],
  finish_reasons: ["VARCHAR"],
  error_type: "VARCHAR",
  scripted: "BOOLEAN",
};
const TOOL_FIELDS = {
  // The fold's
  status: "VARCHAR",
  // tool_calls
  tool_call_id: "VARCHAR",
  tool: "VARCHAR",
  tool_type: "VARCHAR",
  arguments: "VARCHAR",
  args_digest: "VARCHAR",
  duration_ms: "BIGINT",
  result: "VARCHAR",
  error_message: "VARCHAR",
  error_type: "VARCHAR",
  blocked_by: "VARCHAR",
};
const POLICY_FIELDS = {
  hook: "VARCHAR",
  decision: { effect: "VARCHAR", rule_id: "VARCHAR", reason: "VARCHAR" },
  subject: "VARCHAR",
  tool: "VARCHAR",
  tool_call_id: "VARCHAR",
};

const list = (kinds: readonly string[]) => kinds.map((k) => `'${k}'`).join(", ");
const RUN_KINDS = FOLDED_KINDS.filter((k) => k.startsWith("run_") || k === "lease_expired");
const TOOL_KINDS = "('tool_call_started', 'tool_call_progress', 'tool_call_finished')";
const PARSED_COLUMNS = "run_id, event_id, tenant, agent_id, source, seq, attempt, kind, ts, cursor";

/** The touched runs' events of `kinds`, and with `runless` the batch's outside any run, parsed. */
const parse = (table: string, kinds: string, fields: object, runless = false) => `
CREATE OR REPLACE TEMP VIEW ${table} AS
SELECT ${PARSED_COLUMNS}, from_json(payload, '${JSON.stringify(fields)}') AS p
FROM (
  SELECT ${PARSED_COLUMNS}, payload FROM run_events WHERE kind IN ${kinds}${
    runless
      ? `
  UNION ALL
  SELECT ${PARSED_COLUMNS}, payload FROM batch WHERE run_id IS NULL AND kind IN ${kinds}`
      : ""
  }
)`;

/**
 * Every payload the derived tables read, parsed where a statement reads it, by group of kinds
 * with that group's fields (`p`): `run_payloads` (a run's own events: dispatched, started,
 * settled, retried, lease lost), `call_payloads` (model calls), `tool_payloads` (tool calls) and
 * `policy_payloads` (policy decisions); model calls and policy decisions outside any run too.
 * Parsing costs DuckDB per field and row, and storing what it parsed costs more than parsing it
 * again: one table of every field for every kind took 0.56 s per million events, one table per
 * group 0.9 s; these views, parsed by the statements that read them (most parts twice), cost
 * those statements less than either (bench/results/memory-projection.md).
 */
export const PAYLOADS = [
  parse("run_payloads", `(${list(RUN_KINDS)})`, RUN_FIELDS),
  parse("call_payloads", "('model_call')", CALL_FIELDS, true),
  parse("tool_payloads", TOOL_KINDS, TOOL_FIELDS),
  parse("policy_payloads", "('policy_decision')", POLICY_FIELDS, true),
];

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
WITH models AS (
  SELECT run_id, arg_max(p.model, ts) AS model
  FROM run_payloads
  WHERE kind = 'run_started' AND p.model IS NOT NULL
  GROUP BY run_id
),
blocked AS (
  SELECT run_id, count(*) AS blocked_tool_calls
  FROM tool_payloads
  WHERE kind = 'tool_call_finished' AND p.status = 'blocked'
  GROUP BY run_id
),
folded AS (
  SELECT * REPLACE (run_id::UUID AS run_id, settled_event_id::UUID AS settled_event_id,
    ${instant("dispatched_at")} AS dispatched_at, ${instant("started_at")} AS started_at,
    ${instant("finished_at")} AS finished_at)
  FROM folded_rows
)
SELECT r.run_id, r.tenant, f.intent_id::UUID AS intent_id, f.app, f.agent_id, f.intent_type,
  m.model,
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
  coalesce(b.blocked_tool_calls, 0) AS blocked_tool_calls,
  f.error_category, f.error_reason, f.error_message, f.result,
  r.events, f.settled_event_id,
  coalesce(from_json(f.anomalies, '["VARCHAR"]'), []::VARCHAR[]) AS anomalies,
  coalesce(f.intent_status, ${blank.intent_status}) AS intent_status,
  f.settled_projection_id::UUID AS settled_projection_id
FROM run_facts r
LEFT JOIN folded f USING (run_id)
LEFT JOIN models m USING (run_id)
LEFT JOIN blocked b USING (run_id)
LEFT JOIN run_payloads s ON s.event_id = f.settled_event_id`;

export const INSERT_RUNS = `
INSERT INTO memory.runs BY NAME
SELECT * EXCLUDE (intent_status, settled_projection_id) FROM new_runs`;

/** What an intent's row reads of each of its runs (see INSERT_INTENTS). */
const INTENT_RUN_COLUMNS =
  "intent_id, tenant, app, intent_type, intent_status, run_id, attempts, created_at, finished_at, tokens_in, tokens_out, cost_usd";

/**
 * The intents of the touched runs: those they name now and, with `existing` (the runs the lake
 * already had, `since` their earliest `created_at` as a SQL literal), those they named before,
 * whose rows lose the run if it moved.
 */
export const touchedIntents = (since: string | null) => `
CREATE OR REPLACE TEMP TABLE touched_intents AS
SELECT intent_id FROM new_runs WHERE intent_id IS NOT NULL${
  since === null
    ? ""
    : `
UNION
SELECT intent_id FROM memory.runs
WHERE run_id IN (SELECT run_id FROM existing) AND created_at >= ${since} AND intent_id IS NOT NULL`
}`;

/**
 * Every run the lake has of the touched intents, read before the touched runs' rows are
 * replaced. An intent's runs can be months apart, so no time bounds them; the range of the
 * intents' ids (UUIDv7, by time) does let DuckLake skip the files of older intents.
 */
export const intentLakeRuns = (low: string, high: string) => `
CREATE OR REPLACE TEMP TABLE intent_lake_runs AS
SELECT run_id, created_at FROM memory.runs
WHERE intent_id BETWEEN ${sqlString(low)}::UUID AND ${sqlString(high)}::UUID
  AND intent_id IN (SELECT intent_id FROM touched_intents)`;

/** The touched runs' part of their intents' rows, from `new_runs`. */
export const INTENT_RUNS = `
CREATE OR REPLACE TEMP TABLE intent_runs AS
SELECT ${INTENT_RUN_COLUMNS} FROM new_runs WHERE intent_id IS NOT NULL`;

/**
 * The rest of the touched intents' runs, derived again from their events into `new_runs`: the
 * intent's status is the fold's of its latest run, which `memory.runs` does not keep.
 */
export const ADD_INTENT_RUNS = `
INSERT INTO intent_runs
SELECT ${INTENT_RUN_COLUMNS} FROM new_runs
WHERE intent_id IN (SELECT intent_id FROM touched_intents)`;

/**
 * Intents are one-to-one with runs (a fork is a new intent); their status is the intent
 * machine's. A log may still name one intent in many runs, so an intent's row is derived from
 * all of them (`intent_runs`): from only the runs a batch touched, an incremental sync and a
 * rebuild would disagree. The latest run (by first event, then id, so that ties are decided the
 * same way whatever order the runs come in) gives the status. Tokens are summed as a run's are,
 * saturating at the largest safe integer (and the cost at the largest finite number: the
 * contract's usageOf), so the sum always fits.
 */
export const INSERT_INTENTS = `
INSERT INTO memory.intents BY NAME
SELECT intent_id,
  arg_max(tenant, latest) AS tenant,
  arg_max(app, latest) AS app,
  arg_max(intent_type, latest) AS intent_type,
  arg_max(intent_status, latest) AS status,
  arg_max(run_id, latest) AS run_id,
  sum(attempts) AS attempts,
  min(created_at) AS created_at,
  max(finished_at) AS finished_at,
  least(sum(tokens_in), ${Number.MAX_SAFE_INTEGER}) AS tokens_in,
  least(sum(tokens_out), ${Number.MAX_SAFE_INTEGER}) AS tokens_out,
  CASE WHEN bool_or(cost_usd IS NULL) THEN NULL
    ELSE least(sum(cost_usd), ${Number.MAX_VALUE}) END AS cost_usd
FROM (SELECT *, {'at': created_at, 'run': run_id} AS latest FROM intent_runs)
GROUP BY intent_id`;

/**
 * Tool calls of the touched runs: each call's start and end joined, its policy denial if any.
 * A call's start fields are those of its first start, its end fields those of its last end.
 */
export const INSERT_TOOL_CALLS = `
INSERT INTO memory.tool_calls BY NAME
WITH calls AS (
  SELECT run_id, p.tool_call_id AS tool_call_id,
    any_value(tenant) AS tenant,
    arg_min(agent_id, ts) AS agent_id,
    max(attempt) AS attempt,
    arg_min({'tool': p.tool, 'tool_type': p.tool_type, 'args_digest': p.args_digest,
      'arguments': p.arguments, 'ts': ts}, ts) FILTER (WHERE kind = 'tool_call_started') AS s,
    arg_max(p.tool, ts) AS last_tool,
    min(ts) AS first_ts,
    arg_max({'ts': ts, 'status': p.status, 'duration_ms': p.duration_ms,
      'blocked_by': p.blocked_by, 'error_type': p.error_type, 'error_message': p.error_message,
      'result': p.result}, ts) FILTER (WHERE kind = 'tool_call_finished') AS f,
    count(*) FILTER (WHERE kind = 'tool_call_progress') AS progress_events
  FROM tool_payloads
  GROUP BY run_id, p.tool_call_id
),
denials AS (
  SELECT run_id, p.tool_call_id AS tool_call_id,
    arg_max(p.decision.rule_id, ts) AS rule_id,
    arg_max(p.decision.reason, ts) AS reason
  FROM policy_payloads
  WHERE run_id IS NOT NULL AND p.decision.effect = 'deny'
    AND p.tool_call_id IS NOT NULL
  GROUP BY ALL
)
SELECT c.run_id, c.tool_call_id, c.tenant, r.app, c.agent_id, c.attempt,
  coalesce(c.s.tool, c.last_tool) AS tool, c.s.tool_type, c.s.args_digest, c.s.arguments,
  coalesce(c.s.ts, c.first_ts) AS started_at, c.f.ts AS finished_at, c.f.duration_ms,
  coalesce(c.f.status, 'running') AS status,
  c.f.status = 'ok' AS ok,
  coalesce(c.f.status = 'blocked', false) OR d.rule_id IS NOT NULL AS blocked,
  coalesce(c.f.blocked_by, d.rule_id) AS blocked_by,
  d.reason AS policy_reason,
  c.f.error_type, c.f.error_message, c.f.result, c.progress_events
FROM calls c
JOIN new_runs r USING (run_id)
LEFT JOIN denials d USING (run_id, tool_call_id)`;

/**
 * Model calls of the touched runs, and the batch's calls that belong to no run (their app is the
 * one the gateway attributed, when it did).
 */
export const INSERT_MODEL_CALLS = `
INSERT INTO memory.model_calls BY NAME
SELECT c.event_id, c.run_id, c.tenant, coalesce(r.app, p.app) AS app, c.agent_id, c.attempt, c.ts,
  p.call_id, p.operation, p.provider, p.request_model, p.response_model,
  coalesce(p.response_model, p.request_model) AS model, p.alias, p.stream,
  p.input_tokens, p.output_tokens, p.cache_read_tokens, p.cache_write_tokens, p.cost_usd,
  p.latency_ms, p.ttft_ms, p.cache_hit,
  len(p.attempts) AS upstream_attempts,
  greatest(len(p.attempts) - 1, 0) AS fallbacks,
  list_transform(p.attempts, a -> a.provider || '/' || a.model) AS upstream_chain,
  -- The tries the call was charged for: those with the tokens their provider billed.
  list_transform(list_filter(p.attempts, a -> a.input_tokens IS NOT NULL),
    a -> {'provider': a.provider, 'model': a.model, 'input_tokens': a.input_tokens,
      'output_tokens': coalesce(a.output_tokens, 0),
      'cache_read_tokens': coalesce(a.cache_read_tokens, 0),
      'cache_write_tokens': coalesce(a.cache_write_tokens, 0), 'cost_usd': a.cost_usd})
    AS billed_tries,
  p.finish_reasons, p.error_type, p.observer, p.scripted
FROM call_payloads c
LEFT JOIN new_runs r USING (run_id)`;

/** Policy decisions of the touched runs, and the batch's decisions outside any run. */
export const INSERT_POLICY_DECISIONS = `
INSERT INTO memory.policy_decisions BY NAME
SELECT d.event_id, d.run_id, d.tenant, r.app, d.agent_id, d.source, d.ts, p.hook,
  p.decision.effect AS effect, p.decision.rule_id AS rule_id, p.decision.reason AS reason,
  p.tool, p.tool_call_id, p.subject
FROM policy_payloads d
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
    `DELETE FROM memory.runs WHERE run_id IN (SELECT run_id FROM existing) AND created_at >= ${since}`,
    `DELETE FROM memory.tool_calls WHERE run_id IN (SELECT run_id FROM existing) AND started_at >= ${since}`,
    `DELETE FROM memory.model_calls WHERE run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`,
    `DELETE FROM memory.policy_decisions WHERE run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`,
    `DELETE FROM memory.projections WHERE run_id IN (SELECT run_id FROM existing) AND ts >= ${since}`,
  ];
}

/**
 * The touched intents' rows, removed before they are derived again. An intent's row is dated at
 * its earliest run, so `since` (the earliest `created_at` of the intents' runs in the lake, as a
 * SQL literal) lets DuckLake skip older files, whichever of its runs the batch touched.
 */
export const deleteIntents = (since: string) =>
  `DELETE FROM memory.intents WHERE intent_id IN (SELECT intent_id FROM touched_intents) AND created_at >= ${since}`;
