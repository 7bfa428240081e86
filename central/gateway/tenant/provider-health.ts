import { eq } from "drizzle-orm";
import type { ProviderHealth as HealthView } from "../../../contract";
import type { Database } from "../../db/database";
import { iso, isoOrNull } from "../../tenant/context";
import type { ProviderOutcome } from "../admission";
import {
  type Circuit,
  type CircuitSettings,
  closedCircuit,
  expireProbe,
  probeDue,
  recordOutcome,
  resetCircuit,
  skipProbe,
  takeProbe,
} from "../resilience/circuit";
import type { ProviderView } from "../routing/router";
import { gatewayHealth } from "./schema";

/** Weight of the newest observation in the moving averages. */
const ALPHA = 0.2;
/**
 * A provider's error rate halves every minute without a new error, so one that is no longer
 * tried (because it was demoted) is trusted again in time.
 */
const ERROR_HALF_LIFE_MS = 60_000;

type Row = typeof gatewayHealth.$inferSelect;

const ewma = (old: number | null, value: number) =>
  old === null ? value : old + ALPHA * (value - old);

/**
 * Provider health in the tenant object: each provider's circuit breaker (through the contract's
 * breaker machine) and moving averages of latency, time to first token and error rate, which
 * routing reads on every call. Kept in memory, written through to SQLite.
 */
export class ProviderHealthStore {
  private rows: Map<string, Row> | null = null;

  constructor(
    private readonly db: Database,
    private readonly sql: SqlStorage,
    private readonly now: () => number,
  ) {}

  private all(): Map<string, Row> {
    if (!this.rows)
      this.rows = new Map(
        this.db
          .select()
          .from(gatewayHealth)
          .all()
          .map((r) => [r.provider, r]),
      );
    return this.rows;
  }

  private row(provider: string): Row {
    let row = this.all().get(provider);
    if (!row) {
      const c = closedCircuit(this.now());
      row = {
        provider,
        circuit: c.state,
        since: c.since,
        consecutiveFailures: 0,
        until: null,
        latencyMs: null,
        ttftMs: null,
        errorRate: null,
        calls: 0,
        failures: 0,
        lastError: null,
        lastErrorAt: null,
      };
      this.all().set(provider, row);
    }
    return row;
  }

  private circuit(row: Row): Circuit {
    return {
      state: row.circuit,
      since: row.since,
      consecutiveFailures: row.consecutiveFailures,
      until: row.until,
    };
  }

  private setCircuit(row: Row, c: Circuit): void {
    row.circuit = c.state;
    row.since = c.since;
    row.consecutiveFailures = c.consecutiveFailures;
    row.until = c.until;
  }

  // Written on every call's settlement: the Durable Object's SQL API directly (workerd caches
  // the statement by its text), not drizzle, whose query building cost more than the write.
  private save(row: Row): void {
    this.sql.exec(
      `INSERT INTO gateway_health (provider, circuit, since, consecutive_failures, until, latency_ms, ttft_ms, error_rate, calls, failures, last_error, last_error_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(provider) DO UPDATE SET circuit = excluded.circuit, since = excluded.since,
         consecutive_failures = excluded.consecutive_failures, until = excluded.until,
         latency_ms = excluded.latency_ms, ttft_ms = excluded.ttft_ms, error_rate = excluded.error_rate,
         calls = excluded.calls, failures = excluded.failures, last_error = excluded.last_error,
         last_error_at = excluded.last_error_at`,
      row.provider,
      row.circuit,
      row.since,
      row.consecutiveFailures,
      row.until,
      row.latencyMs,
      row.ttftMs,
      row.errorRate,
      row.calls,
      row.failures,
      row.lastError,
      row.lastErrorAt,
    );
  }

  /** How routing sees a provider now (an overdue probe is given up first). */
  view(provider: string, kind: string, unusable: string | null): ProviderView {
    const now = this.now();
    const row = this.row(provider);
    const before = this.circuit(row);
    const c = expireProbe(before, now);
    if (c !== before) {
      this.setCircuit(row, c);
      this.save(row);
    }
    return {
      kind,
      circuit: c.state,
      probeDue: probeDue(c, now),
      nextProbeAt: c.state === "open" ? c.until : null,
      latencyMs: row.latencyMs,
      errorRate: this.errorRate(row, now),
      unusable,
    };
  }

  private errorRate(row: Row, now: number): number | null {
    if (row.errorRate === null || row.lastErrorAt === null) return row.errorRate;
    return row.errorRate * 2 ** (-(now - row.lastErrorAt) / ERROR_HALF_LIFE_MS);
  }

  /** This call probes the provider's open circuit until it reports, at the latest by `deadline`. */
  takeProbe(provider: string, deadline: number): void {
    const row = this.row(provider);
    this.setCircuit(row, takeProbe(this.circuit(row), this.now(), deadline));
    this.save(row);
  }

  /**
   * A probe that told nothing (another candidate answered first, or the provider refused the
   * request as the request's fault): the next call probes instead.
   */
  skipProbe(provider: string): void {
    const row = this.row(provider);
    this.setCircuit(row, skipProbe(this.circuit(row), this.now()));
    this.save(row);
  }

  record(outcome: ProviderOutcome, settings: CircuitSettings): void {
    const now = this.now();
    const row = this.row(outcome.provider);
    this.setCircuit(row, recordOutcome(this.circuit(row), outcome, settings, now));
    row.calls += 1;
    // A new provider starts from a clean record, so one failure does not make it look broken.
    row.errorRate = ewma(this.errorRate(row, now) ?? 0, outcome.ok ? 0 : 1);
    if (outcome.ok) {
      row.latencyMs = ewma(row.latencyMs, outcome.latencyMs);
      if (outcome.ttftMs !== null) row.ttftMs = ewma(row.ttftMs, outcome.ttftMs);
    } else {
      row.failures += 1;
      row.lastError = outcome.error;
      row.lastErrorAt = now;
    }
    this.save(row);
  }

  /** Providers an admin changed start with a closed circuit. */
  reset(providers: string[]): void {
    const now = this.now();
    for (const provider of providers) {
      const row = this.all().get(provider);
      if (!row) continue;
      this.setCircuit(row, resetCircuit(this.circuit(row), now));
      this.save(row);
    }
  }

  status(providers: { id: string; kind: string }[]): HealthView[] {
    return providers.map(({ id, kind }) => {
      const view = this.view(id, kind, null);
      const row = this.row(id);
      return {
        id,
        kind,
        circuit: view.circuit,
        circuit_since: iso(row.since),
        next_probe_at: isoOrNull(view.nextProbeAt),
        consecutive_failures: row.consecutiveFailures,
        latency_ms: row.latencyMs,
        ttft_ms: row.ttftMs,
        error_rate: view.errorRate,
        calls: row.calls,
        failures: row.failures,
        last_error: row.lastError,
        last_error_at: isoOrNull(row.lastErrorAt),
      };
    });
  }

  forget(provider: string): void {
    this.all().delete(provider);
    this.db.delete(gatewayHealth).where(eq(gatewayHealth.provider, provider)).run();
  }
}
