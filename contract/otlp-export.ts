import { parseKeyPairsIntoRecord } from "@opentelemetry/core";

/** Where a runtime sends its spans over OTLP/HTTP, and with which headers. */
export interface OtlpTracesTarget {
  url: string;
  headers: Record<string, string>;
}

/**
 * The OTLP/HTTP traces endpoint the standard OpenTelemetry variables name, for every runtime
 * (edge agents from their environment, central from its Worker vars):
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`;
 * `OTEL_EXPORTER_OTLP_TRACES_HEADERS` or `OTEL_EXPORTER_OTLP_HEADERS` for a collector's
 * credentials. Null (no export) without an endpoint or with `OTEL_SDK_DISABLED=true`.
 */
export function otlpTracesTarget(
  env: Readonly<Record<string, string | undefined>>,
): OtlpTracesTarget | null {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return null;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!traces && !base) return null;
  return {
    url: traces || `${base!.replace(/\/+$/, "")}/v1/traces`,
    // OpenTelemetry's own reading of the variable (what its exporters send): `key=value` pairs,
    // comma-separated, URL-encoded; a pair it cannot decode is left out, never an error, so a
    // stray % in a collector's token cannot stop tracing from starting.
    headers: parseKeyPairsIntoRecord(
      env.OTEL_EXPORTER_OTLP_TRACES_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS,
    ),
  };
}
