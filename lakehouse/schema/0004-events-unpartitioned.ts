import type { Migration } from "./migration";

/**
 * `events` stops being partitioned by day. Partitioned writes took more than half of a sync's
 * events write (1,000,000 events over 14 days: 1.9 against 0.9 CPU seconds, DuckDB v1.5.5), and
 * a batch is read in log order, which is time order: each file's (and each row group's) ts and
 * event_id min/max still let a query by time or by id skip the rest. Files already written
 * keep their day partitions.
 */
export const eventsUnpartitioned: Migration = {
  version: 4,
  name: "events unpartitioned",
  statements: ["ALTER TABLE memory.events RESET PARTITIONED BY"],
};
