import type { Migration } from "./migration";

/**
 * The projection's tables. `events` is the log as synced (every valid AgentEvent, payload kept
 * as JSON); the others are derived from it and can be rebuilt from it. Timestamps are UTC
 * instants; writers set TimeZone to UTC so day partitions are UTC days.
 */
export const tables: Migration = {
  version: 1,
  name: "tables",
  statements: [
    `CREATE TABLE memory.events (
      event_id UUID NOT NULL,
      tenant VARCHAR NOT NULL,
      run_id UUID,
      agent_id VARCHAR NOT NULL,
      source VARCHAR NOT NULL,
      seq BIGINT NOT NULL,
      attempt INTEGER,
      kind VARCHAR NOT NULL,
      ts TIMESTAMPTZ NOT NULL,
      cursor BIGINT,
      payload JSON NOT NULL,
      origin VARCHAR NOT NULL
    )`,
    // The log, by far the largest table, by UTC day (events carry no app; only run_started does).
    // The derived tables hold 7-40x fewer rows, so they go by app and UTC month: by day their
    // files would hold a few hundred rows each. Queries by time still skip files by min/max.
    "ALTER TABLE memory.events SET PARTITIONED BY (year(ts), month(ts), day(ts))",

    `CREATE TABLE memory.runs (
      run_id UUID NOT NULL,
      tenant VARCHAR NOT NULL,
      intent_id UUID,
      app VARCHAR,
      agent_id VARCHAR,
      intent_type VARCHAR,
      model VARCHAR,
      status VARCHAR NOT NULL,
      attempts INTEGER NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      dispatched_at TIMESTAMPTZ,
      started_at TIMESTAMPTZ,
      finished_at TIMESTAMPTZ,
      last_event_at TIMESTAMPTZ NOT NULL,
      duration_ms BIGINT,
      tokens_in BIGINT NOT NULL,
      tokens_out BIGINT NOT NULL,
      cache_read_tokens BIGINT NOT NULL,
      cache_write_tokens BIGINT NOT NULL,
      cost_usd DOUBLE,
      model_calls INTEGER NOT NULL,
      tool_calls INTEGER NOT NULL,
      blocked_tool_calls INTEGER NOT NULL,
      error_category VARCHAR,
      error_reason VARCHAR,
      error_message VARCHAR,
      result VARCHAR,
      events INTEGER NOT NULL,
      settled_event_id UUID,
      anomalies VARCHAR[] NOT NULL
    )`,
    "ALTER TABLE memory.runs SET PARTITIONED BY (app, year(created_at), month(created_at))",

    `CREATE TABLE memory.intents (
      intent_id UUID NOT NULL,
      tenant VARCHAR NOT NULL,
      app VARCHAR,
      intent_type VARCHAR,
      status VARCHAR NOT NULL,
      run_id UUID NOT NULL,
      attempts INTEGER NOT NULL,
      created_at TIMESTAMPTZ NOT NULL,
      finished_at TIMESTAMPTZ,
      tokens_in BIGINT NOT NULL,
      tokens_out BIGINT NOT NULL,
      cost_usd DOUBLE
    )`,
    "ALTER TABLE memory.intents SET PARTITIONED BY (app, year(created_at), month(created_at))",

    `CREATE TABLE memory.tool_calls (
      run_id UUID NOT NULL,
      tool_call_id VARCHAR NOT NULL,
      tenant VARCHAR NOT NULL,
      app VARCHAR,
      agent_id VARCHAR NOT NULL,
      attempt INTEGER,
      tool VARCHAR NOT NULL,
      tool_type VARCHAR,
      args_digest VARCHAR,
      arguments VARCHAR,
      started_at TIMESTAMPTZ NOT NULL,
      finished_at TIMESTAMPTZ,
      duration_ms BIGINT,
      status VARCHAR NOT NULL,
      ok BOOLEAN,
      blocked BOOLEAN NOT NULL,
      blocked_by VARCHAR,
      policy_reason VARCHAR,
      error_type VARCHAR,
      error_message VARCHAR,
      result VARCHAR,
      progress_events INTEGER NOT NULL
    )`,
    "ALTER TABLE memory.tool_calls SET PARTITIONED BY (app, year(started_at), month(started_at))",

    `CREATE TABLE memory.model_calls (
      event_id UUID NOT NULL,
      run_id UUID,
      tenant VARCHAR NOT NULL,
      app VARCHAR,
      agent_id VARCHAR NOT NULL,
      attempt INTEGER,
      ts TIMESTAMPTZ NOT NULL,
      call_id VARCHAR NOT NULL,
      operation VARCHAR NOT NULL,
      provider VARCHAR NOT NULL,
      request_model VARCHAR NOT NULL,
      response_model VARCHAR,
      model VARCHAR NOT NULL,
      alias VARCHAR,
      stream BOOLEAN NOT NULL,
      input_tokens BIGINT NOT NULL,
      output_tokens BIGINT NOT NULL,
      cache_read_tokens BIGINT NOT NULL,
      cache_write_tokens BIGINT NOT NULL,
      cost_usd DOUBLE,
      latency_ms BIGINT NOT NULL,
      ttft_ms BIGINT,
      cache_hit BOOLEAN NOT NULL,
      upstream_attempts INTEGER NOT NULL,
      fallbacks INTEGER NOT NULL,
      upstream_chain VARCHAR[] NOT NULL,
      finish_reasons VARCHAR[] NOT NULL,
      error_type VARCHAR,
      observer VARCHAR NOT NULL,
      scripted BOOLEAN NOT NULL
    )`,
    "ALTER TABLE memory.model_calls SET PARTITIONED BY (app, year(ts), month(ts))",

    `CREATE TABLE memory.policy_decisions (
      event_id UUID NOT NULL,
      run_id UUID,
      tenant VARCHAR NOT NULL,
      app VARCHAR,
      agent_id VARCHAR NOT NULL,
      source VARCHAR NOT NULL,
      ts TIMESTAMPTZ NOT NULL,
      hook VARCHAR NOT NULL,
      effect VARCHAR NOT NULL,
      rule_id VARCHAR NOT NULL,
      reason VARCHAR NOT NULL,
      tool VARCHAR,
      tool_call_id VARCHAR,
      subject VARCHAR
    )`,
    "ALTER TABLE memory.policy_decisions SET PARTITIONED BY (app, year(ts), month(ts))",

    `CREATE TABLE memory.projections (
      event_id UUID NOT NULL,
      domain VARCHAR NOT NULL,
      projection VARCHAR NOT NULL,
      payload JSON NOT NULL,
      ts TIMESTAMPTZ NOT NULL,
      source_event_id UUID,
      run_id UUID
    )`,
    "ALTER TABLE memory.projections SET PARTITIONED BY (year(ts), month(ts))",

    `CREATE TABLE memory.quarantine (
      origin VARCHAR NOT NULL,
      position VARCHAR NOT NULL,
      event_id VARCHAR,
      kind VARCHAR,
      reason VARCHAR NOT NULL,
      issues JSON NOT NULL,
      raw VARCHAR NOT NULL
    )`,

    // Where each source was read up to; written in the same transaction as the batch it ends.
    `CREATE TABLE memory.sync_cursors (
      origin VARCHAR NOT NULL,
      file VARCHAR NOT NULL,
      position BIGINT NOT NULL,
      lines BIGINT NOT NULL,
      complete BOOLEAN NOT NULL,
      updated_at TIMESTAMPTZ NOT NULL
    )`,

    // One row every batch updates: two writers committing at once conflict on it, so the loser
    // redoes its batch against the winner's rows instead of inserting the same events twice.
    `CREATE TABLE memory.sync_guard (
      batches BIGINT NOT NULL,
      writer VARCHAR NOT NULL,
      committed_at TIMESTAMPTZ NOT NULL
    )`,
    "INSERT INTO memory.sync_guard VALUES (0, 'migration', now())",

    // Small commits (a `--follow` poll) stay in the catalog until compaction flushes them to
    // Parquet, instead of leaving a tiny file per table per poll.
    "CALL memory.set_option('data_inlining_row_limit', 1000)",
  ],
};
