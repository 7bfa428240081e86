import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readInbound } from "../../../../central/gateway/call/inbound";
import { BOOTSTRAP_KEY, newKey, newTenant } from "../../support";
import { chat, labGateway, upstreamAnswers } from "./worker-calls";

const workerEnv = { ...env, AURAISON_BOOTSTRAP_KEY: BOOTSTRAP_KEY };

afterEach(() => {
  vi.restoreAllMocks();
});

async function outputReserved(body: Record<string, unknown>): Promise<number | null> {
  const { admin } = await newTenant("inb");
  const key = (await newKey(admin, "operator")).key;
  const request = new Request("http://central/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }], ...body }),
  });
  return (await readInbound(request, "chat", workerEnv)).estimate.outputTokens;
}

describe("a chat completion's output reservation", () => {
  it("covers the larger of max_completion_tokens and max_tokens, whichever the provider reads", async () => {
    expect(await outputReserved({ max_completion_tokens: 1, max_tokens: 100_000 })).toBe(100_000);
    expect(await outputReserved({ max_completion_tokens: 500, max_tokens: 20 })).toBe(500);
    expect(await outputReserved({ max_tokens: 64 })).toBe(64);
    expect(await outputReserved({})).toBeNull();
  });
});

describe("a request's size", () => {
  it("is the UTF-8 bytes read when the body comes without Content-Length", async () => {
    const { admin } = await newTenant("inb");
    const key = (await newKey(admin, "operator")).key;
    // Each of these is 4 bytes in UTF-8 and 2 UTF-16 units in a JavaScript string.
    const text = JSON.stringify({
      model: "auto",
      messages: [{ role: "user", content: "𝄞😀".repeat(500) }],
    });
    const bytes = new TextEncoder().encode(text);
    const request = new Request("http://central/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      // Cut inside a character: the body is counted as bytes, not as decoded pieces.
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 1001));
          controller.enqueue(bytes.subarray(1001));
          controller.close();
        },
      }),
    });
    expect(request.headers.get("content-length")).toBeNull();
    const inbound = await readInbound(request, "chat", workerEnv);
    expect(inbound.bodyBytes).toBe(bytes.byteLength);
    // Admission reserves the body's UTF-8 bytes as its input (README, "Limits and budgets").
    expect(inbound.estimate.inputTokens).toBe(bytes.byteLength);
  });
});

describe("a background Responses request", () => {
  const UPSTREAM = "http://lab.test:8000/v1";

  it("is refused with a 400 naming `background`, its body read, before any provider is asked", async () => {
    const { admin } = await newTenant("inb");
    await labGateway(admin, UPSTREAM);
    const key = (await newKey(admin, "operator")).key;
    const asked: string[] = [];
    // What OpenAI answers a background request with: queued, nothing generated yet, no usage.
    upstreamAnswers(UPSTREAM, (url) => {
      asked.push(url);
      return Response.json({
        id: "resp_1",
        object: "response",
        model: "m",
        status: "queued",
        output: [],
        usage: null,
      });
    });
    const request = { model: "auto", input: "write a long story", background: true };
    const { request: sent, response, settled } = await chat(key, "/v1/responses", request);
    const text = await response.text();
    expect(response.status, text).toBe(400);
    const { error } = JSON.parse(text) as { error: { param: string; message: string } };
    expect(error.param).toBe("background");
    expect(error.message).toContain("neither relayed nor billed");
    expect(sent.bodyUsed).toBe(true);
    await settled();
    expect(asked).toEqual([]);

    // Without it, the same request is the provider's to answer.
    const plain = await chat(key, "/v1/responses", { ...request, background: false });
    await plain.response.text();
    await plain.settled();
    expect(asked).toHaveLength(1);
  });
});
