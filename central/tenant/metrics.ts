import { AGENT_STATUSES, BREAKER_STATES, RUN_STATUSES } from "../../contract";
import type { MetricFamily, Sample } from "../metrics/exposition";
import type { HistogramSpec } from "../metrics/instruments";
import {
  DISPATCH_LATENCY,
  GATEWAY_CALLS,
  GATEWAY_COST,
  GEN_AI_DURATION,
  GEN_AI_TIME_TO_FIRST_CHUNK,
  GEN_AI_TOKEN_USAGE,
} from "../metrics/instruments";
import type { MetricRecorder } from "../metrics/recorder";
import type { TenantServices } from "./services";

const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({
  name,
  help,
  type: "gauge",
  samples,
});
const counter = (name: string, help: string, samples: Sample[]): MetricFamily => ({
  name,
  help,
  type: "counter",
  samples,
});

const histogram = (spec: HistogramSpec, recorded: MetricRecorder): MetricFamily => ({
  name: spec.name,
  help: spec.help,
  type: "histogram",
  series: recorded.histogram(spec),
});

/**
 * What `GET /metrics` shows of one tenant. Gauges and most counters are read from the state that
 * already holds them (runs, agents, the event log's cursor, the gateway's health, spend and
 * cache); only what no table keeps is recorded as it happens (metrics/instruments.ts).
 */
export function tenantMetrics(s: TenantServices): MetricFamily[] {
  const now = s.ctx.now();
  const status = s.gateway.status();
  const queue = s.runs.queueDepth();

  // Every status is shown, at 0 when no run or agent is in it, so a query finds the series.
  const runCounts = s.runs.statusCounts();
  const runs: Sample[] = runCounts.map((r) => ({
    labels: { status: r.status, app: r.app ?? "" },
    value: r.runs,
  }));
  for (const st of RUN_STATUSES)
    if (!runCounts.some((r) => r.status === st)) runs.push({ labels: { status: st }, value: 0 });
  const agentCounts = s.agents.statusCounts();
  const agents: Sample[] = agentCounts.map((a) => ({
    labels: { app: a.app, status: a.status },
    value: a.agents,
  }));
  for (const st of AGENT_STATUSES)
    if (!agentCounts.some((a) => a.status === st))
      agents.push({ labels: { status: st }, value: 0 });

  const budget = (
    name: string,
    help: string,
    pick: (b: (typeof status.budgets)[number]) => number | null,
  ) =>
    gauge(
      name,
      help,
      status.budgets.flatMap((b) => {
        const value = pick(b);
        return value === null
          ? []
          : [{ labels: { scope: b.scope, subject: b.subject, period: b.period }, value }];
      }),
    );

  return [
    gauge("auraison_tenant_info", "The tenant these metrics are of.", [
      { labels: { tenant: s.ctx.tenant }, value: 1 },
    ]),
    gauge("auraison_runs", "Runs by status and app (empty before one is dispatched).", runs),
    gauge(
      "auraison_run_queue_depth",
      "Runs waiting in central's queue: pending, ready or in a retry's backoff.",
      [{ labels: {}, value: queue.runs }],
    ),
    gauge(
      "auraison_run_queue_oldest_age_seconds",
      "How long the oldest run in central's queue has existed (0 when the queue is empty).",
      [
        {
          labels: {},
          value: queue.oldestCreatedAt === null ? 0 : (now - queue.oldestCreatedAt) / 1000,
        },
      ],
    ),
    histogram(DISPATCH_LATENCY, s.metrics),
    gauge("auraison_agents", "Registered edge agents by app and status.", agents),
    counter(
      "auraison_events_ingested_total",
      "Events written to the tenant's event log, from edge agents and from central itself.",
      [{ labels: {}, value: s.log.peekCursor() - 1 }],
    ),
    counter(GATEWAY_CALLS.name, GATEWAY_CALLS.help, s.metrics.counter(GATEWAY_CALLS)),
    counter(GATEWAY_COST.name, GATEWAY_COST.help, s.metrics.counter(GATEWAY_COST)),
    histogram(GEN_AI_DURATION, s.metrics),
    histogram(GEN_AI_TIME_TO_FIRST_CHUNK, s.metrics),
    histogram(GEN_AI_TOKEN_USAGE, s.metrics),
    counter(
      "auraison_gateway_upstream_attempts_total",
      "Attempts the gateway made on each configured provider (a call may try several).",
      status.providers.map((p) => ({ labels: { provider: p.id }, value: p.calls })),
    ),
    counter(
      "auraison_gateway_upstream_failures_total",
      "Failed attempts on each configured provider.",
      status.providers.map((p) => ({ labels: { provider: p.id }, value: p.failures })),
    ),
    gauge(
      "auraison_gateway_circuit_state",
      "Each provider's circuit breaker: 1 for the state it is in, 0 for the others.",
      status.providers.flatMap((p) =>
        BREAKER_STATES.map((st) => ({
          labels: { provider: p.id, state: st },
          value: p.circuit === st ? 1 : 0,
        })),
      ),
    ),
    counter(
      "auraison_trace_spans_total",
      "The tenant object's own spans since it started, by what became of them (exported, dropped: the queue was full, failed: the collector did not take them); none when no OTLP endpoint is set.",
      Object.entries(s.ctx.traces?.stats ?? {}).map(([outcome, value]) => ({
        labels: { outcome },
        value,
      })),
    ),
    gauge("auraison_gateway_cache_entries", "Answers in the gateway's response cache.", [
      { labels: {}, value: status.cache.entries },
    ]),
    gauge("auraison_gateway_cache_bytes", "Bytes of answers in the gateway's response cache.", [
      { labels: {}, value: status.cache.bytes },
    ]),
    ...(["usd", "tokens"] as const).flatMap((unit) => {
      const what = unit === "usd" ? "US dollars" : "tokens";
      return [
        budget(
          `auraison_budget_used_${unit}`,
          `Spent in the budget's current period, in ${what} (tenant and per-app budgets).`,
          (b) => b[`${unit}_used`],
        ),
        budget(
          `auraison_budget_reserved_${unit}`,
          `Held for model calls in flight under the budget, in ${what}.`,
          (b) => b[`${unit}_reserved`],
        ),
        budget(
          `auraison_budget_limit_${unit}`,
          `The budget's limit in ${what}.`,
          (b) => b[`${unit}_limit`],
        ),
      ];
    }),
  ];
}
