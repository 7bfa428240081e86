import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  isDeterministic,
  requestHash,
} from "../../../../central/gateway/cache/cache-key";

describe("response cache key", () => {
  it("caches only requests that ask for no randomness", () => {
    expect(isDeterministic({ temperature: 0 })).toBe(true);
    expect(isDeterministic({ temperature: 0, n: 1 })).toBe(true);
    expect(isDeterministic({ temperature: 0, n: 2 })).toBe(false);
    expect(isDeterministic({})).toBe(false);
    expect(isDeterministic({ temperature: 0.2 })).toBe(false);
  });

  it("normalises: key order and delivery-only fields do not change the hash; content, dialect and streaming do", async () => {
    const base = { model: "auto", temperature: 0, messages: [{ role: "user", content: "hi" }] };
    const h = await requestHash("openai", false, base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(
      await requestHash("openai", false, {
        messages: [{ content: "hi", role: "user" }],
        user: "someone",
        stream: false,
        stream_options: { include_usage: true },
        metadata: { a: 1 },
        temperature: 0,
        model: "auto",
      }),
    ).toBe(h);
    expect(await requestHash("openai", true, base)).not.toBe(h);
    expect(await requestHash("anthropic", false, base)).not.toBe(h);
    expect(
      await requestHash("openai", false, { ...base, messages: [{ role: "user", content: "hi!" }] }),
    ).not.toBe(h);
    expect(await requestHash("openai", false, { ...base, model: "fast" })).not.toBe(h);
  });

  it("writes canonical JSON", () => {
    expect(canonicalJson({ b: [1, { d: 1, c: null }], a: "x", u: undefined })).toBe(
      '{"a":"x","b":[1,{"c":null,"d":1}]}',
    );
  });
});
