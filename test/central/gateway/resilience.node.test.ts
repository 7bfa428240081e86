import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEADERS } from "../../../contract";
import type { CentralDev } from "../../helpers/central-dev";
import { type FakeUpstream, startFakeUpstream } from "./fake-upstreams";
import { gatewayTenant, post, readEvents, startGatewayDev, waitForCalls } from "./gateway-dev";

/**
 * Retries, fallback, the circuit breaker and timeouts, under wrangler dev against fake
 * providers scripted to fail: 429 with Retry-After, 500s, a slow first byte, a stream that
 * dies before its first token, a provider that never answers.
 */

let central: CentralDev;
let primary: FakeUpstream;
let secondary: FakeUpstream;
let claude: FakeUpstream;

beforeAll(async () => {
  [central, primary, secondary, claude] = await Promise.all([
    startGatewayDev(),
    startFakeUpstream("openai"),
    startFakeUpstream("openai"),
    startFakeUpstream("anthropic"),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([central?.stop(), primary?.close(), secondary?.close(), claude?.close()]);
});

const providers = (resilience: Record<string, number> = {}) => [
  {
    id: "primary",
    kind: "openai-compatible",
    base_url: `${primary.url}/v1`,
    models: ["m"],
    resilience,
  },
  { id: "secondary", kind: "openai-compatible", base_url: `${secondary.url}/v1`, models: ["m"] },
  {
    id: "claude",
    kind: "anthropic",
    base_url: claude.url,
    key: { secret: "FAKE_ANTHROPIC_KEY" },
    models: ["claude-x"],
  },
];

async function tenant(resilience: Record<string, number>, settings: Record<string, unknown> = {}) {
  return gatewayTenant(central, {
    providers: providers(resilience),
    aliases: { auto: { candidates: ["primary/m", "secondary/m", "claude/claude-x"] } },
    resilience: { backoff_base_ms: 50, backoff_max_ms: 200, ...settings },
  });
}

const ask = (admin: string, body: Record<string, unknown> = {}) =>
  post(central, "/v1/chat/completions", admin, {
    model: "auto",
    messages: [{ role: "user", content: "hi" }],
    ...body,
  });

const reset = () => {
  for (const u of [primary, secondary, claude]) {
    u.calls.length = 0;
    u.setDefault({ kind: "answer", text: "fine" });
  }
};

describe("resilience", () => {
  it("retries a 429 after the provider's Retry-After, then succeeds on the same provider", async () => {
    reset();
    const { admin } = await tenant({ max_retries: 2 });
    primary.script({ kind: "status", status: 429, retryAfter: "1" });
    const response = await ask(admin);
    expect(response.status).toBe(200);
    expect(primary.calls).toHaveLength(2);
    expect(primary.calls[1]!.at - primary.calls[0]!.at).toBeGreaterThanOrEqual(950);
    expect(secondary.calls).toHaveLength(0);
    const [call] = await waitForCalls(central, admin, (c) => c.length === 1);
    expect(
      call!.payload.attempts.map((a) => [a.provider, a.outcome, a.error_type, a.http_status]),
    ).toEqual([
      ["primary", "error", "429", 429],
      ["primary", "ok", null, 200],
    ]);
    // Waiting on the provider is not the gateway's own time.
    expect(Number(response.headers.get(HEADERS.gatewayTime))).toBeLessThan(500);
  });

  it("retries 5xx with backoff, then falls back down the chain in order", async () => {
    reset();
    const { admin } = await tenant({ max_retries: 1 });
    primary.setDefault({ kind: "status", status: 500 });
    secondary.script(
      { kind: "status", status: 503 },
      { kind: "status", status: 502 },
      { kind: "status", status: 500 },
    );
    const response = await ask(admin);
    expect(response.status).toBe(200);
    expect(response.headers.get(HEADERS.provider)).toBe("claude");
    expect(
      ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!
        .message.content,
    ).toBe("fine");
    const [call] = await waitForCalls(central, admin, (c) => c.length === 1);
    expect(call!.payload.attempts.map((a) => `${a.provider}:${a.error_type ?? "ok"}`)).toEqual([
      "primary:500",
      "primary:500",
      "secondary:503",
      "secondary:502",
      "secondary:500",
      "claude:ok",
    ]);
    expect(call!.payload).toMatchObject({
      provider: "claude",
      request_model: "claude-x",
      route: { chosen: { provider: "primary" } },
    });
  });

  it("answers in the caller's format when every candidate fails, naming each failure", async () => {
    reset();
    const { admin } = await tenant({ max_retries: 0 });
    for (const u of [primary, secondary])
      u.setDefault({ kind: "status", status: 500, message: "exploded" });
    claude.setDefault({ kind: "status", status: 529, message: "overloaded" });
    const failed = await ask(admin);
    expect(failed.status).toBe(502);
    const body = (await failed.json()) as {
      error: { code: string; message: string; type: string };
    };
    expect(body.error).toMatchObject({ code: "upstream_failed", type: "server_error" });
    expect(body.error.message).toContain("primary/m: 500 exploded");
    expect(body.error.message).toContain("claude/claude-x: 529 overloaded");
    for (const u of [primary, secondary, claude])
      u.setDefault({ kind: "status", status: 429, retryAfter: "60" });
    const limited = await post(central, "/v1/messages", admin, {
      model: "auto",
      max_tokens: 5,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({
      type: "error",
      error: { type: "rate_limit_error", code: "upstream_rate_limited" },
    });
  });

  it("hands the caller its own mistake from the provider instead of falling back", async () => {
    reset();
    const { admin } = await tenant({ max_retries: 2 });
    primary.script({ kind: "status", status: 400, message: "max_tokens is too large" });
    const response = await ask(admin);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { message: "max_tokens is too large" } });
    expect(primary.calls).toHaveLength(1);
    expect(secondary.calls).toHaveLength(0);
  });

  it("opens the circuit after consecutive failures, skips the provider, then probes and closes it", async () => {
    reset();
    const { admin } = await tenant({
      max_retries: 0,
      breaker_failures: 3,
      breaker_cooldown_ms: 1_500,
    });
    primary.setDefault({ kind: "status", status: 500 });
    for (let i = 0; i < 3; i++) expect((await ask(admin)).status).toBe(200);
    expect(primary.calls).toHaveLength(3);
    const status = async () =>
      (
        (await (
          await fetch(`${central.url}/v1/gateway/status`, {
            headers: { authorization: `Bearer ${admin}` },
          })
        ).json()) as {
          providers: { id: string; circuit: string; next_probe_at: string | null }[];
        }
      ).providers.find((p) => p.id === "primary")!;
    await waitForCalls(central, admin, (c) => c.length === 3);
    expect(await status()).toMatchObject({ circuit: "open" });
    expect((await ask(admin)).headers.get(HEADERS.provider)).toBe("secondary");
    expect(primary.calls).toHaveLength(3);
    const skipped = (await waitForCalls(central, admin, (c) => c.length === 4)).at(-1)!;
    expect(skipped.payload.route!.candidates[0]).toMatchObject({
      provider: "primary",
      kept: false,
      reason: expect.stringMatching(/^circuit open until/),
    });
    // The provider recovers; after the cooldown one call probes it and closes the circuit.
    primary.setDefault({ kind: "answer", text: "back" });
    await new Promise((r) => setTimeout(r, 2_100));
    const probe = await ask(admin);
    expect(probe.headers.get(HEADERS.provider)).toBe("primary");
    await waitForCalls(central, admin, (c) => c.length === 5);
    expect(await status()).toMatchObject({ circuit: "closed" });
  });

  it("falls back when a stream's first byte is too slow or it dies before its first token", async () => {
    reset();
    const { admin } = await tenant({ max_retries: 0, first_byte_timeout_ms: 400 });
    primary.script({ kind: "answer", text: "too late", firstByteDelayMs: 3_000 });
    secondary.script({ kind: "answer", text: "on time" });
    const started = performance.now();
    const events = await readEvents(
      await ask(admin, { stream: true, stream_options: { include_usage: true } }),
    );
    expect(performance.now() - started).toBeLessThan(2_500);
    expect(events.map((e) => e.raw)).toEqual(secondary.sent.at(-1));
    primary.script({ kind: "answer", text: "never mind", dropAfterEvents: 1 });
    secondary.script({ kind: "answer", text: "second try" });
    const rescued = await readEvents(
      await ask(admin, { stream: true, stream_options: { include_usage: true } }),
    );
    expect(rescued.map((e) => e.raw)).toEqual(secondary.sent.at(-1));
    const calls = await waitForCalls(central, admin, (c) => c.length === 2);
    expect(
      calls.map((c) => c.payload.attempts.map((a) => `${a.provider}:${a.error_type ?? "ok"}`)),
    ).toEqual([
      ["primary:timeout", "secondary:ok"],
      ["primary:stream_error", "secondary:ok"],
    ]);
    expect(calls[1]!.payload.ttft_ms).not.toBeNull();
  });

  it("charges the call what a stream billed before it broke, and falls back", async () => {
    reset();
    const { admin } = await gatewayTenant(central, {
      providers: providers(),
      aliases: { auto: { candidates: ["claude/claude-x", "secondary/m"] } },
      resilience: { max_retries: 0 },
      prices: {
        version: "p1",
        models: { "claude-x": { input: 3, output: 15 }, m: { input: 1, output: 2 } },
      },
      budgets: { tenant: { usd: 10, period: "month" } },
    });
    // Anthropic reports the input (and one output token) at the stream's start, and bills it.
    claude.script({ kind: "answer", usage: { input: 50_000, output: 9 }, errorAfterEvents: 1 });
    secondary.script({ kind: "answer", text: "rescued" });
    const events = await readEvents(
      await ask(admin, { stream: true, stream_options: { include_usage: true } }),
    );
    expect(events.map((e) => e.raw)).toEqual(secondary.sent.at(-1));
    const [call] = await waitForCalls(central, admin, (c) => c.length === 1);
    // claude: 50,000 x $3 + 1 x $15 per million; secondary: 12 x $1 + 5 x $2.
    expect(call!.payload).toMatchObject({
      provider: "secondary",
      input_tokens: 50_012,
      output_tokens: 6,
      cost_usd: 0.150037,
      attempts: [
        {
          provider: "claude",
          error_type: "stream_error",
          input_tokens: 50_000,
          output_tokens: 1,
          cost_usd: 0.150015,
        },
        { provider: "secondary", outcome: "ok" },
      ],
    });
    const status = (await (
      await fetch(`${central.url}/v1/gateway/status`, {
        headers: { authorization: `Bearer ${admin}` },
      })
    ).json()) as { budgets: { usd_used: number }[] };
    expect(status.budgets[0]!.usd_used).toBe(0.150037);
  });

  it("times out a provider that never answers and moves on", async () => {
    reset();
    const { admin } = await tenant({ max_retries: 0, timeout_ms: 500 });
    primary.script({ kind: "hang" });
    const started = performance.now();
    const response = await ask(admin);
    expect(response.status).toBe(200);
    expect(response.headers.get(HEADERS.provider)).toBe("secondary");
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
