/**
 * The Prometheus text exposition format (version 0.0.4), rendered from metric families.
 *
 * Hand-written because no well-kept library fits: prom-client loads Node's `cluster` and `http`
 * at import and keeps observations in process memory, where a histogram's buckets cannot be set
 * from the counts the tenant keeps in SQLite; OpenTelemetry's Prometheus serializer needs the
 * whole metrics SDK and its in-memory aggregation for the same job. The format itself is small:
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels: Labels;
  value: number;
}

/** One labelled histogram: counts per upper bound (not cumulative; the last is +Inf). */
export interface HistogramSeries {
  labels: Labels;
  bounds: readonly number[];
  counts: readonly number[];
  sum: number;
}

export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: Sample[] }
  | { name: string; help: string; type: "histogram"; series: HistogramSeries[] };

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeValue = (s: string) =>
  s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return "";
  for (const [k] of pairs)
    if (!LABEL.test(k) || k.startsWith("__")) throw new Error(`invalid label name ${k}`);
  return `{${pairs.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",")}}`;
}

/** The families as one exposition, each with its HELP and TYPE lines. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`invalid metric name ${family.name}`);
    if (seen.has(family.name)) throw new Error(`metric ${family.name} rendered twice`);
    seen.add(family.name);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type !== "histogram") {
      for (const s of family.samples)
        lines.push(`${family.name}${labelText(s.labels)} ${formatNumber(s.value)}`);
      continue;
    }
    for (const h of family.series) {
      let cumulative = 0;
      h.bounds.forEach((bound, i) => {
        cumulative += h.counts[i] ?? 0;
        lines.push(
          `${family.name}_bucket${labelText(h.labels, ["le", formatNumber(bound)])} ${cumulative}`,
        );
      });
      cumulative += h.counts[h.bounds.length] ?? 0;
      lines.push(`${family.name}_bucket${labelText(h.labels, ["le", "+Inf"])} ${cumulative}`);
      lines.push(`${family.name}_sum${labelText(h.labels)} ${formatNumber(h.sum)}`);
      lines.push(`${family.name}_count${labelText(h.labels)} ${cumulative}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
