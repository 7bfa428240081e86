import type { DuckDBConnection } from "@duckdb/node-api";
import {
  type AgentEvent,
  blankRun,
  type RunLife,
  type RunState,
  replayRun,
  runStateOf,
} from "../../contract";
import { derivedId } from "./derived-id";
import { type Steps, timed } from "./steps";

/** Of each kind's payload (parsed: derive.ts, PAYLOADS), the fields the fold reads. */
const PAYLOAD = `CASE f.kind
  WHEN 'run_dispatched' THEN json_object('intent_id', p_run.intent_id, 'agent_id', p_run.agent_id,
    'app', p_run.app, 'attempt', p_run.attempt, 'ack_deadline', p_run.ack_deadline)
  WHEN 'run_started' THEN CASE WHEN p_run.origin IS NULL
    THEN json_object('intent_id', p_run.intent_id, 'app', p_run.app, 'attempt', p_run.attempt,
      'intent_type', p_run.intent_type)
    ELSE json_object('intent_id', p_run.intent_id, 'app', p_run.app, 'attempt', p_run.attempt,
      'intent_type', p_run.intent_type, 'origin', p_run.origin) END
  WHEN 'run_completed' THEN json_object('result', p_run.result)
  WHEN 'run_failed' THEN json_object('error', p_run.error)
  WHEN 'run_cancelled' THEN json_object('reason', p_run.reason)
  WHEN 'run_retrying' THEN json_object('attempt', p_run.attempt, 'cause', p_run.cause,
    'error', p_run.error, 'retry_at', p_run.retry_at)
  WHEN 'lease_expired' THEN json_object('agent_id', p_run.agent_id, 'attempt', p_run.attempt,
    'retry_at', p_run.retry_at)
  WHEN 'model_call' THEN json_object('call_id', p_call.call_id, 'observer', p_call.observer,
    'provider', p_call.provider, 'input_tokens', p_call.input_tokens,
    'output_tokens', p_call.output_tokens, 'cache_read_tokens', p_call.cache_read_tokens,
    'cache_write_tokens', p_call.cache_write_tokens, 'cost_usd', p_call.cost_usd,
    'gateway_call_id', p_call.gateway_call_id)
  WHEN 'tool_call_finished' THEN json_object('status', p_tool.status)
END`;

/**
 * Per run, the events the fold reads as one JSON array: the envelope fields the fold reads
 * (its order among them included) and the payload's. DuckDB writes the text and JavaScript
 * parses it once per run: far cheaper than moving each value across on its own.
 */
const READ = `
SELECT f.run_id::VARCHAR, any_value(r.tenant), epoch_ms(any_value(r.created_at))::DOUBLE,
  '[' || string_agg(json_object(
    'event_id', f.event_id::VARCHAR, 'agent_id', f.agent_id, 'source', f.source, 'seq', f.seq,
    'attempt', f.attempt, 'kind', f.kind,
    'ts', strftime(f.ts AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ'),
    -- The fold orders by central's cursor only when every event of the run has one.
    'cursor', CASE WHEN r.cursored THEN f.cursor END,
    'payload', ${PAYLOAD})::VARCHAR, ',') || ']'
FROM (
  SELECT * EXCLUDE (p), p AS p_run FROM run_payloads
  UNION ALL BY NAME SELECT * EXCLUDE (p), p AS p_call FROM call_payloads WHERE run_id IS NOT NULL
  UNION ALL BY NAME SELECT * EXCLUDE (p), p AS p_tool FROM tool_payloads
  WHERE kind = 'tool_call_finished'
) f JOIN run_facts r USING (run_id)
GROUP BY f.run_id`;

type Column = (string | number | null)[];

/**
 * Replays every touched run (in `run_events`) through the contract's fold (`replayRun`), the
 * one central, as the runs' owner, and the edge apply, and writes what memory keeps of each to
 * the temporary table `folded_rows`, one row per run that has an event the fold reads (a run
 * without one is the blank run: `blankRunState`). `run_facts` (per run: tenant, first event,
 * whether every event has central's cursor) and the parsed payloads (derive.ts: PAYLOADS) must
 * exist. `meanwhile` is a statement of the caller's that DuckDB runs while JavaScript replays.
 */
export async function foldTouchedRuns(
  connection: DuckDBConnection,
  steps: Steps = {},
  meanwhile?: () => Promise<unknown>,
): Promise<void> {
  const [runIds, tenants, created, logs] = (await timed(steps, "fold: read events", async () =>
    columns((await connection.runAndReadAll(READ)).getColumns() as Column[], 4),
  )) as [string[], string[], number[], string[]];
  // DuckDB runs `meanwhile` on its threads while this one replays: the connection is not used
  // again until both are done.
  const running = meanwhile?.();
  running?.catch(() => undefined);
  const replaying = performance.now();
  const folded = runIds.map((runId, r) => {
    // Events of the fold's shape: what it reads of AgentEvents, no more.
    const events = JSON.parse(logs[r]!) as AgentEvent[];
    const life = replayRun(events, blankRun(runId, tenants[r]!, created[r]!));
    return { life, state: runStateOf(life) };
  });
  steps["fold: replay"] = (steps["fold: replay"] ?? 0) + performance.now() - replaying;
  await running;

  const appending = performance.now();
  await connection.run(`CREATE OR REPLACE TEMP TABLE folded_rows (
    run_id VARCHAR, status VARCHAR, intent_status VARCHAR, attempts INTEGER, intent_id VARCHAR,
    app VARCHAR, agent_id VARCHAR, intent_type VARCHAR,
    dispatched_at DOUBLE, started_at DOUBLE, finished_at DOUBLE,
    tokens_in DOUBLE, tokens_out DOUBLE, cache_read_tokens DOUBLE, cache_write_tokens DOUBLE,
    cost_usd DOUBLE, model_calls INTEGER, tool_calls INTEGER,
    error_category VARCHAR, error_reason VARCHAR, error_message VARCHAR, result VARCHAR,
    settled_event_id VARCHAR, settled_projection_id VARCHAR, anomalies VARCHAR)`);
  const a = await connection.createAppender("folded_rows", null, "temp");
  const text = (v: string | null | undefined) => (v == null ? a.appendNull() : a.appendVarchar(v));
  const number = (v: number | null) => (v === null ? a.appendNull() : a.appendDouble(v));
  try {
    folded.forEach(({ life, state }, r) => {
      a.appendVarchar(runIds[r]!);
      a.appendVarchar(state.status);
      a.appendVarchar(life.intent_status);
      a.appendInteger(life.attempt);
      text(life.intent_id);
      text(life.app);
      text(life.agent_id);
      text(life.intent_type);
      number(life.dispatched_at);
      number(life.started_at);
      number(life.finished_at);
      const u = state.usage;
      number(u.tokens_in);
      number(u.tokens_out);
      number(u.cache_read_tokens);
      number(u.cache_write_tokens);
      number(u.cost_usd);
      a.appendInteger(u.model_calls);
      a.appendInteger(u.tool_calls);
      text(state.error?.category);
      text(state.error?.reason);
      text(state.error?.message);
      text(life.result);
      text(life.settled_by);
      text(life.settled_by && derivedId(life.settled_by, "memory.runs"));
      a.appendVarchar(JSON.stringify(life.anomalies));
      a.endRow();
    });
  } finally {
    a.closeSync();
  }
  steps["fold: append"] = (steps["fold: append"] ?? 0) + performance.now() - appending;
}

/** DuckDB returns no columns for an empty result. */
function columns(read: Column[], n: number): Column[] {
  return read.length ? read : Array.from({ length: n }, () => []);
}

/** What memory keeps of a run that has no event the fold reads yet: the blank run's. */
export function blankRunState(): { life: RunLife; state: RunState } {
  const life = blankRun("00000000-0000-7000-8000-000000000000", "-", 0);
  return { life, state: runStateOf(life) };
}
