import { primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Observations the tenant's other state does not keep (metrics/recorder.ts): a counter's value,
 * or a histogram's count per bucket and sum, per metric and label set. Everything else /metrics
 * shows is read from the tables that already hold it (runs, agents, the log, the gateway's).
 */
export const recordedMetrics = sqliteTable(
  "recorded_metrics",
  {
    metric: text("metric").notNull(),
    /** The label set as canonical JSON (keys sorted). */
    labels: text("labels").notNull(),
    /** A counter's value; a histogram's sum of observations. */
    value: real("value").notNull(),
    /** A histogram's count per bucket (not cumulative, +Inf last); null for a counter. */
    buckets: text("buckets", { mode: "json" }).$type<number[]>(),
  },
  (t) => [primaryKey({ columns: [t.metric, t.labels] })],
);
