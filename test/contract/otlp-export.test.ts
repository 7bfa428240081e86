import { describe, expect, it } from "vitest";
import { otlpTracesTarget } from "../../contract";

describe("the OTLP traces target from the OpenTelemetry variables", () => {
  it("takes the traces endpoint, or the base one with /v1/traces, and none when disabled", () => {
    expect(otlpTracesTarget({})).toBeNull();
    expect(otlpTracesTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318/" })?.url).toBe(
      "http://127.0.0.1:4318/v1/traces",
    );
    expect(
      otlpTracesTarget({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://a",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b/traces",
      })?.url,
    ).toBe("http://b/traces");
    expect(
      otlpTracesTarget({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a", OTEL_SDK_DISABLED: "TRUE" }),
    ).toBeNull();
  });

  it("decodes the headers, and leaves out a pair it cannot decode rather than failing", () => {
    const target = otlpTracesTarget({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Basic%20dXNlcjpwYXNz, x-token=50%off",
    });
    expect(target?.headers).toEqual({ authorization: "Basic dXNlcjpwYXNz" });
  });
});
