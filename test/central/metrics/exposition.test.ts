import { describe, expect, it } from "vitest";
import { renderExposition } from "../../../central/metrics/exposition";

describe("the Prometheus text format", () => {
  it("renders HELP and TYPE, escapes label values and help, and makes histogram buckets cumulative", () => {
    const text = renderExposition([
      {
        name: "x_total",
        help: 'a\\b\nc "q"',
        type: "counter",
        samples: [{ labels: { app: 'we"ird\\\nname' }, value: 3 }],
      },
      { name: "g", help: "g", type: "gauge", samples: [{ labels: {}, value: Number.NaN }] },
      {
        name: "h_seconds",
        help: "h",
        type: "histogram",
        series: [{ labels: { app: "a" }, bounds: [0.5, 1], counts: [2, 0, 1], sum: 4.25 }],
      },
    ]);
    expect(text).toBe(
      [
        '# HELP x_total a\\\\b\\nc "q"',
        "# TYPE x_total counter",
        'x_total{app="we\\"ird\\\\\\nname"} 3',
        "# HELP g g",
        "# TYPE g gauge",
        "g NaN",
        "# HELP h_seconds h",
        "# TYPE h_seconds histogram",
        'h_seconds_bucket{app="a",le="0.5"} 2',
        'h_seconds_bucket{app="a",le="1"} 2',
        'h_seconds_bucket{app="a",le="+Inf"} 3',
        'h_seconds_sum{app="a"} 4.25',
        'h_seconds_count{app="a"} 3',
        "",
      ].join("\n"),
    );
  });

  it("refuses invalid metric and label names, and a family rendered twice", () => {
    const family = (name: string, label = "ok") => ({
      name,
      help: "",
      type: "gauge" as const,
      samples: [{ labels: { [label]: "v" }, value: 1 }],
    });
    expect(() => renderExposition([family("1bad")])).toThrow(/invalid metric name/);
    expect(() => renderExposition([family("fine", "bad-label")])).toThrow(/invalid label name/);
    expect(() => renderExposition([family("fine", "__reserved")])).toThrow(/invalid label name/);
    expect(() => renderExposition([family("a"), family("a")])).toThrow(/rendered twice/);
  });
});
