import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { otlpTracesTarget, type TraceContext } from "../../contract";
import { AGENT_VERSION } from "../version";
import { RunSpans } from "./run-spans";

/** Who the spans of this agent come from (the OTLP resource). */
export interface TracingIdentity {
  agentId: string;
  app: string;
  tenant: string;
}

/**
 * The edge's traces: one OpenTelemetry tracer provider per agent, exporting OTLP (protobuf over
 * HTTP) to the endpoint the standard variables name — `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`), with `OTEL_EXPORTER_OTLP_HEADERS` for a
 * collector's credentials. Without an endpoint, or with `OTEL_SDK_DISABLED=true`, there is no
 * tracing at all. The provider is the agent's own, not registered globally, so an app's
 * extensions with their own OpenTelemetry setup are not disturbed.
 */
export class EdgeTracing {
  private constructor(private readonly provider: TracerProvider) {}

  static fromEnv(env: NodeJS.ProcessEnv, who: TracingIdentity): EdgeTracing | null {
    const target = otlpTracesTarget(env);
    if (!target) return null;
    const exporter = new OTLPTraceExporter(target);
    const provider = new TracerProvider({
      resource: resourceFromAttributes({
        "service.name": env.OTEL_SERVICE_NAME || "auraison-edge",
        "service.version": AGENT_VERSION,
        "service.instance.id": who.agentId,
        "auraison.tenant": who.tenant,
        "auraison.app": who.app,
      }),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000 })],
    });
    return new EdgeTracing(provider);
  }

  /** The spans of one run attempt, made from its events, under the intent's trace if it has one. */
  run(who: { agentId: string; app: string; parent: TraceContext | null }): RunSpans {
    return new RunSpans(this.provider.getTracer("auraison-edge"), who);
  }

  /** Sends what is buffered now (tests, and before a host shuts down). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
