import { eq } from "drizzle-orm";
import type { Database } from "../db/database";
import type { HistogramSeries, Labels, Sample } from "./exposition";
import type { CounterSpec, HistogramSpec } from "./instruments";
import { recordedMetrics } from "./schema";

type LabelsOf<L extends string> = Partial<Record<L, string>>;

/** Sorted keys, so one label set is one row whatever order it was written in. */
function canonical(labels: Labels): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))),
  );
}

/**
 * Counters and histograms central records as things happen, kept in the tenant's SQLite so they
 * survive restarts and evictions of the Durable Object (a Prometheus counter must never go back
 * unless the series restarts), in the same synchronous step as the change they count: a counter
 * is one upsert, a histogram a read and an upsert of one row. Every model call writes several,
 * so the writes use the Durable Object's SQL API directly (workerd caches each statement by its
 * text) rather than drizzle, whose query building cost more CPU than the writes themselves.
 */
export class MetricRecorder {
  constructor(
    private readonly db: Database,
    private readonly sql: SqlStorage,
  ) {}

  add<L extends string>(spec: CounterSpec<L>, labels: LabelsOf<L>, amount: number): void {
    if (!(amount > 0)) return;
    this.sql.exec(
      "INSERT INTO recorded_metrics (metric, labels, value, buckets) VALUES (?, ?, ?, NULL) ON CONFLICT(metric, labels) DO UPDATE SET value = value + excluded.value",
      spec.name,
      canonical(labels as Labels),
      amount,
    );
  }

  observe<L extends string>(spec: HistogramSpec<L>, labels: LabelsOf<L>, value: number): void {
    if (!Number.isFinite(value)) return;
    const key = canonical(labels as Labels);
    const row = this.row(spec.name, key);
    // Boundaries changed in a new release: the series starts again (Prometheus sees a reset).
    const fresh = !row?.buckets || row.buckets.length !== spec.bounds.length + 1;
    const buckets = fresh ? new Array<number>(spec.bounds.length + 1).fill(0) : [...row.buckets!];
    const at = spec.bounds.findIndex((bound) => value <= bound);
    buckets[at === -1 ? spec.bounds.length : at]! += 1;
    this.save(spec.name, key, (fresh ? 0 : row!.value) + value, buckets);
  }

  counter(spec: CounterSpec): Sample[] {
    return this.rows(spec.name).map((r) => ({ labels: JSON.parse(r.labels), value: r.value }));
  }

  histogram(spec: HistogramSpec): HistogramSeries[] {
    return this.rows(spec.name)
      .filter((r) => r.buckets?.length === spec.bounds.length + 1)
      .map((r) => ({
        labels: JSON.parse(r.labels),
        bounds: spec.bounds,
        counts: r.buckets!,
        sum: r.value,
      }));
  }

  private row(metric: string, labels: string): { value: number; buckets: number[] | null } | null {
    const row = this.sql
      .exec<{ value: number; buckets: string | null }>(
        "SELECT value, buckets FROM recorded_metrics WHERE metric = ? AND labels = ?",
        metric,
        labels,
      )
      .toArray()[0];
    if (!row) return null;
    return { value: row.value, buckets: row.buckets === null ? null : JSON.parse(row.buckets) };
  }

  private rows(metric: string) {
    return this.db
      .select()
      .from(recordedMetrics)
      .where(eq(recordedMetrics.metric, metric))
      .orderBy(recordedMetrics.labels)
      .all();
  }

  private save(metric: string, labels: string, value: number, buckets: number[]): void {
    this.sql.exec(
      "INSERT INTO recorded_metrics (metric, labels, value, buckets) VALUES (?, ?, ?, ?) ON CONFLICT(metric, labels) DO UPDATE SET value = excluded.value, buckets = excluded.buckets",
      metric,
      labels,
      value,
      JSON.stringify(buckets),
    );
  }
}
