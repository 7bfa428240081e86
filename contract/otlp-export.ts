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
    headers: otlpHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS),
  };
}

/** `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs, comma-separated, values URL-encoded. */
function otlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(
      pair.slice(at + 1).trim(),
    );
  }
  return headers;
}
