import { GATEWAY_PROVIDER } from "../../contract/events/model-call";
import type { Migration } from "./migration";

const SUM_OF = (field: string) =>
  `coalesce(list_sum(list_transform(billed_tries, t -> t.${field})), 0)`;

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
    // As 0002-views.ts defined it, with each billed try a part of its own.
    `CREATE OR REPLACE VIEW memory.cost_by_app_model AS
      WITH calls AS (
        SELECT * FROM memory.model_calls
        WHERE NOT (observer = 'edge' AND provider = '${GATEWAY_PROVIDER}')
      ), parts AS (
        SELECT ts, app, provider, model, true AS answer,
               input_tokens - ${SUM_OF("input_tokens")} AS tokens_in,
               output_tokens - ${SUM_OF("output_tokens")} AS tokens_out,
               cache_read_tokens - ${SUM_OF("cache_read_tokens")} AS cache_read_tokens,
               -- Costs are rounded to 1e-8 (the gateway's), which the difference keeps.
               round(cost_usd - ${SUM_OF("cost_usd")}, 8) AS cost_usd,
               fallbacks, cache_hit
        FROM calls
        UNION ALL
        SELECT ts, app, t.provider, t.model, false, t.input_tokens, t.output_tokens,
               t.cache_read_tokens, t.cost_usd, 0, false
        FROM (SELECT ts, app, unnest(billed_tries) AS t FROM calls)
      )
      SELECT date_trunc('hour', ts) AS hour, app, provider, model,
             count(*) FILTER (WHERE answer) AS calls,
             sum(tokens_in) AS tokens_in,
             sum(tokens_out) AS tokens_out,
             sum(cache_read_tokens) AS cache_read_tokens,
             sum(cost_usd) AS cost_usd,
             count(*) FILTER (WHERE answer AND cost_usd IS NULL) AS unpriced_calls,
             sum(fallbacks) AS fallbacks,
             count(*) FILTER (WHERE cache_hit) AS cache_hits
      FROM parts
      GROUP BY ALL`,
  ],
};
