import { GATEWAY_PROVIDER } from "../../contract/events/model-call";
import type { Migration } from "./migration";

/**
 * A gateway call is charged for the tries that failed after their provider reported usage
 * (billed by that provider): `model_calls` keeps them (`billed_tries`, each with its provider,
 * model, tokens and cost; the call's own counts stay what it was charged in all), and
 * `cost_by_app_model` counts each under its own provider and model (tokens and cost, not a call),
 * the call's row only what is left. A call's cost is null when any part is unpriced, and so is
 * its row's part then (an unpriced call); an unpriced try adds no cost to its row.
 */
export const billedTries: Migration = {
  version: 6,
  name: "billed tries",
  statements: [
    `ALTER TABLE memory.model_calls ADD COLUMN billed_tries STRUCT(provider VARCHAR, model VARCHAR,
      input_tokens BIGINT, output_tokens BIGINT, cache_read_tokens BIGINT,
      cache_write_tokens BIGINT, cost_usd DOUBLE)[]`,
    // 0002-views.ts's view, with each billed try a part under its own provider and model and,
    // negated, under the call's: the calls are read as they are (no list arithmetic per call),
    // which keeps the view near the cost of 0002's (a median 53 ms against 41 on 1,000,000
    // events, 2026-12-07, this project's 2-core bench host; 62 subtracting the tries per call).
    `CREATE OR REPLACE VIEW memory.cost_by_app_model AS
      WITH calls AS (
        SELECT * FROM memory.model_calls
        WHERE NOT (observer = 'edge' AND provider = '${GATEWAY_PROVIDER}')
      ), tried AS (
        SELECT ts, app, provider, model, cost_usd IS NULL AS unpriced, unnest(billed_tries) AS t
        FROM calls WHERE len(billed_tries) > 0
      ), parts AS (
        SELECT ts, app, provider, model, true AS answer, input_tokens AS tokens_in,
               output_tokens AS tokens_out, cache_read_tokens, cost_usd, fallbacks, cache_hit
        FROM calls
        UNION ALL
        SELECT ts, app, t.provider, t.model, false, t.input_tokens, t.output_tokens,
               t.cache_read_tokens, t.cost_usd, 0, false
        FROM tried
        UNION ALL
        SELECT ts, app, provider, model, false, -t.input_tokens, -t.output_tokens,
               -t.cache_read_tokens, CASE WHEN NOT unpriced THEN -t.cost_usd END, 0, false
        FROM tried
      )
      SELECT date_trunc('hour', ts) AS hour, app, provider, model,
             count(*) FILTER (WHERE answer) AS calls,
             sum(tokens_in) AS tokens_in,
             sum(tokens_out) AS tokens_out,
             sum(cache_read_tokens) AS cache_read_tokens,
             -- The gateway's costs are rounded to 1e-8, and so is their sum.
             round(sum(cost_usd), 8) AS cost_usd,
             count(*) FILTER (WHERE answer AND cost_usd IS NULL) AS unpriced_calls,
             sum(fallbacks) AS fallbacks,
             count(*) FILTER (WHERE cache_hit) AS cache_hits
      FROM parts
      GROUP BY ALL`,
  ],
};
