import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

export interface FakeVllmRequest {
  body: Record<string, unknown>;
  authorization: string | undefined;
  /** The client went away before the answer was complete. */
  aborted: boolean;
}

/**
 * An OpenAI-compatible server standing in for vLLM (no GPU, no weights here): `answer(body)`
 * decides the reply; streaming sends it in `chunks` pieces `interval_ms` apart and notes when
 * the client disconnects mid-stream, which is how vLLM learns to abort a request.
 */
export async function fakeVllm(
  answer: (
    body: Record<string, unknown>,
  ) =>
    | { text: string; chunks?: number; interval_ms?: number }
    | { status: number; error: string }
    | { silent: true },
) {
  const requests: FakeVllmRequest[] = [];
  const app = new Hono();
  app.post("/v1/chat/completions", async (c) => {
    const body = (await c.req.json()) as Record<string, unknown>;
    const request: FakeVllmRequest = {
      body,
      authorization: c.req.header("authorization"),
      aborted: false,
    };
    requests.push(request);
    const reply = answer(body);
    if ("status" in reply)
      return c.json(
        {
          error: {
            message: reply.error,
            type: "ServiceUnavailableError",
            param: null,
            code: reply.status,
          },
        },
        reply.status as 400,
      );
    const model = String(body.model);
    if ("silent" in reply) {
      return new Response(
        new ReadableStream({
          cancel() {
            request.aborted = true;
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    const usage = {
      prompt_tokens: 12,
      completion_tokens: reply.text.length,
      total_tokens: 12 + reply.text.length,
    };
    if (!body.stream)
      return c.json({
        id: "cmpl-1",
        object: "chat.completion",
        created: 1,
        model,
        choices: [
          { index: 0, message: { role: "assistant", content: reply.text }, finish_reason: "stop" },
        ],
        usage,
      });
    const n = reply.chunks ?? 1;
    const size = Math.ceil(reply.text.length / n);
    const pieces = Array.from({ length: n }, (_, i) => reply.text.slice(i * size, (i + 1) * size));
    const frame = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id: "cmpl-1", object: "chat.completion.chunk", created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    const encoder = new TextEncoder();
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    return new Response(
      new ReadableStream({
        start(controller) {
          let i = 0;
          const next = () => {
            if (i < pieces.length) {
              controller.enqueue(encoder.encode(frame({ content: pieces[i++] }, null)));
              // No interval: at once, as a server streams tokens. A timeout of 0 waits at least
              // 1 ms, which made 4,000 chunks take over 4 s (past the test's time limit under load).
              if (reply.interval_ms) timer = setTimeout(next, reply.interval_ms);
              else immediate = setImmediate(next);
              return;
            }
            controller.enqueue(encoder.encode(frame({}, "stop")));
            controller.enqueue(
              encoder.encode(
                `data: ${JSON.stringify({ id: "cmpl-1", object: "chat.completion.chunk", created: 1, model, choices: [], usage })}\n\n`,
              ),
            );
            controller.enqueue(encoder.encode("data: [DONE]\n\n"));
            controller.close();
          };
          next();
        },
        cancel() {
          clearTimeout(timer);
          clearImmediate(immediate);
          request.aborted = true;
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  let server!: ReturnType<typeof serve>;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        (server as import("node:http").Server).closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
