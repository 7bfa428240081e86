import { otlpTracesTarget } from "../../contract";
import { createLogger } from "../log";
import { type RecorderOptions, SpanRecorder } from "./recorder";

const log = createLogger({ component: "tracing" });

/**
 * Central's span recorder for this environment, or null: export is on only where an OTLP
 * endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
 * among the Worker's vars, as `wrangler dev` is given locally). On Cloudflare, Workers' own
 * tracing (`[observability.traces]` in wrangler.toml) records the platform's spans and this stays
 * off unless an operator sets an endpoint too.
 */
export function spanRecorderOf(
  env: Env,
  resource: Record<string, string>,
  options?: RecorderOptions,
): SpanRecorder | null {
  const target = otlpTracesTarget(env as unknown as Record<string, string | undefined>);
  if (!target) return null;
  return new SpanRecorder(
    target,
    { "service.name": env.OTEL_SERVICE_NAME || "auraison-central", ...resource },
    {
      onLoss: (stats) =>
        log.warn("trace spans lost (collector unreachable or refusing, or the queue full)", {
          ...stats,
          collector: target.url,
        }),
      ...options,
    },
  );
}

const workerRecorders = new WeakMap<Env, SpanRecorder | null>();

/** The Worker isolate's recorder (the gateway's spans), made once per environment. */
export function workerSpanRecorder(env: Env): SpanRecorder | null {
  let recorder = workerRecorders.get(env);
  if (recorder === undefined) {
    recorder = spanRecorderOf(env, { "auraison.component": "worker" });
    workerRecorders.set(env, recorder);
  }
  return recorder;
}
