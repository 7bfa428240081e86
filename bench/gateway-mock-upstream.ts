import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

/**
 * The benchmark's model provider: OpenAI-style chat completions with fixed token timing. The
 * first token comes `firstTokenMs` after the request, then one token every `tokenMs`; a
 * non-streamed answer arrives when its last token would have. Every gateway in the comparison,
 * and the direct baseline, call this same server.
 */
export interface MockTiming {
  firstTokenMs: number;
  tokenMs: number;
  tokens: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startMockUpstream(
  timing: MockTiming,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  // What the benchmark polls, directly or through a gateway's floor, to know a server is up.
  app.get("/health", (c) => c.text("ok"));
  app.post("*", async (c) => {
    const body = (await c.req.json()) as {
      model?: string;
      stream?: boolean;
      stream_options?: { include_usage?: boolean };
    };
    const model = body.model ?? "mock-model";
    const words = Array.from({ length: timing.tokens }, (_, i) => (i === 0 ? "tok" : " tok"));
    const usage = {
      prompt_tokens: 12,
      completion_tokens: timing.tokens,
      total_tokens: 12 + timing.tokens,
    };
    if (!body.stream) {
      await sleep(timing.firstTokenMs + (timing.tokens - 1) * timing.tokenMs);
      return c.json({
        id: "chatcmpl-mock",
        object: "chat.completion",
        created: 1_700_000_000,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: words.join("") },
            finish_reason: "stop",
          },
        ],
        usage,
      });
    }
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: "chatcmpl-mock", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const encoder = new TextEncoder();
    return new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode(chunk({ role: "assistant", content: "" })));
          await sleep(timing.firstTokenMs);
          for (const [i, word] of words.entries()) {
            if (i > 0) await sleep(timing.tokenMs);
            controller.enqueue(encoder.encode(chunk({ content: word })));
          }
          controller.enqueue(encoder.encode(chunk({}, "stop")));
          if (body.stream_options?.include_usage)
            controller.enqueue(
              encoder.encode(
                `data: ${JSON.stringify({ id: "chatcmpl-mock", object: "chat.completion.chunk", created: 1_700_000_000, model, choices: [], usage })}\n\n`,
              ),
            );
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } },
    );
  });
  let server!: ReturnType<typeof serve>;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
