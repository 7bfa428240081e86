import { describe, expect, it } from "vitest";
import { Backoff, websocketUrl } from "../../../edge/fleet/backoff";

describe("backoff", () => {
  it("grows exponentially to its cap, with full jitter, and resets", () => {
    const max = new Backoff(100, 1_000, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(() => max.next())).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    max.reset();
    expect(max.next()).toBe(100);
    const min = new Backoff(100, 1_000, () => 0);
    expect(min.next()).toBe(0);
    const real = new Backoff(100, 1_000);
    for (let i = 0; i < 50; i++) {
      const delay = real.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
  });

  it("derives the WebSocket URL from central's URL", () => {
    expect(websocketUrl("http://127.0.0.1:8787", "/v1/agents/connect")).toBe(
      "ws://127.0.0.1:8787/v1/agents/connect",
    );
    expect(websocketUrl("https://central.example.com/", "/v1/agents/connect")).toBe(
      "wss://central.example.com/v1/agents/connect",
    );
  });
});
