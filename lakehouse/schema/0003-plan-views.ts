import type { Migration } from "./migration";

/** A plan step as `plan_version` lists it (contract/events/plan.ts). */
const STEP = `[{"id":"VARCHAR","type":"VARCHAR","targets":["VARCHAR"],"depends_on":["VARCHAR"],"action":"VARCHAR","requires_approval":"BOOLEAN"}]`;
const ENDED = "('completed', 'failed', 'cancelled')";

/**
 * Plans as central logs them (`plan_version`, `plan_status`, `plan_step`, all outside any run):
 * views over the log, so they hold whatever the log holds, a rebuild included. (DuckDB's `->>`
 * binds looser than `=` and `IN`: comparisons parenthesise it.) `plan_costs`
 * sets central's count of each plan (its planning calls plus its runs) beside what memory's own
 * runs table says its runs consumed.
 */
export const planViews: Migration = {
  version: 3,
  name: "plan views",
  statements: [
    `CREATE VIEW memory.plans AS
      SELECT payload->>'plan_id' AS plan_id,
             arg_max(payload->>'planner', seq) FILTER (WHERE kind = 'plan_version') AS planner,
             arg_max(payload->>'status', seq) FILTER (WHERE kind = 'plan_status') AS status,
             max((payload->>'version')::INTEGER) AS version,
             count(*) FILTER (WHERE kind = 'plan_version' AND (payload->>'round') = 'repair') AS replans,
             min(ts) AS first_event_at,
             max(ts) FILTER (WHERE kind = 'plan_status' AND (payload->>'status') IN ${ENDED}) AS finished_at,
             arg_max_null(payload->'error'->>'reason', seq) FILTER (WHERE kind = 'plan_status') AS error_reason,
             arg_max_null(payload->'error'->>'message', seq) FILTER (WHERE kind = 'plan_status') AS error_message,
             arg_max((payload->'usage'->>'tokens_in')::BIGINT + (payload->'usage'->>'tokens_out')::BIGINT, seq)
               FILTER (WHERE kind = 'plan_status') AS tokens,
             arg_max_null((payload->'usage'->>'cost_usd')::DOUBLE, seq) FILTER (WHERE kind = 'plan_status') AS cost_usd,
             any_value(tenant) AS tenant
      FROM memory.events
      WHERE kind IN ('plan_version', 'plan_status')
      GROUP BY ALL`,

    `CREATE VIEW memory.plan_steps AS
      WITH declared AS (
        SELECT tenant, payload->>'plan_id' AS plan_id, (payload->>'version')::INTEGER AS version,
               unnest(from_json(payload->'steps', '${STEP}'), recursive := true)
        FROM memory.events
        WHERE kind = 'plan_version'
      ),
      changes AS (
        SELECT payload->>'plan_id' AS plan_id, (payload->>'version')::INTEGER AS version,
               payload->>'step_id' AS id,
               arg_max(payload->>'status', seq) AS status,
               max((payload->>'attempt')::INTEGER) AS attempts,
               list(DISTINCT (payload->>'run_id')::UUID) FILTER (WHERE (payload->>'run_id') IS NOT NULL) AS run_ids,
               arg_max_null(payload->'error'->>'reason', seq) AS error_reason,
               min(ts) FILTER (WHERE (payload->>'status') = 'running') AS started_at,
               max(ts) FILTER (WHERE (payload->>'status') IN ('completed', 'failed', 'cancelled', 'superseded')) AS finished_at
        FROM memory.events
        WHERE kind = 'plan_step'
        GROUP BY ALL
      )
      SELECT d.plan_id, d.version, d.id AS step_id, d.type, d.targets, d.depends_on, d.action,
             d.requires_approval, coalesce(c.status, 'waiting') AS status,
             coalesce(c.attempts, 0) AS attempts, coalesce(c.run_ids, []::UUID[]) AS run_ids,
             c.error_reason, c.started_at, c.finished_at, d.tenant
      FROM declared d LEFT JOIN changes c USING (plan_id, version, id)`,

    `CREATE VIEW memory.plan_costs AS
      WITH step_runs AS (
        SELECT DISTINCT plan_id, unnest(run_ids) AS run_id FROM memory.plan_steps
      ),
      used AS (
        SELECT s.plan_id, count(r.run_id) AS runs,
               coalesce(sum(r.tokens_in + r.tokens_out), 0) AS run_tokens,
               sum(r.cost_usd) AS run_cost_usd,
               count(*) FILTER (WHERE r.run_id IS NOT NULL AND r.cost_usd IS NULL) AS unpriced_runs
        FROM step_runs s LEFT JOIN memory.runs r USING (run_id)
        GROUP BY s.plan_id
      )
      SELECT p.plan_id, p.status, p.planner,
             p.tokens AS total_tokens, p.cost_usd AS total_cost_usd,
             greatest(p.tokens - coalesce(u.run_tokens, 0), 0) AS planning_tokens,
             coalesce(u.runs, 0) AS runs, coalesce(u.run_tokens, 0) AS run_tokens,
             u.run_cost_usd, coalesce(u.unpriced_runs, 0) AS unpriced_runs,
             p.first_event_at, p.finished_at, p.tenant
      FROM memory.plans p LEFT JOIN used u USING (plan_id)`,
  ],
};
