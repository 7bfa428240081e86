import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";

export interface UpstreamCall {
  path: string;
  headers: Record<string, string>;
  body: { model: string; messages: unknown[]; stream?: boolean };
}

/**
 * A local OpenAI-compatible chat completions server (what central's gateway, vLLM or Ollama
 * speak), streaming a fixed answer. It stands in for the model provider, which cannot be
 * reached from here.
 */
export async function openAiUpstream(answer: string) {
  const calls: UpstreamCall[] = [];
  const app = new Hono();
  app.post("*/chat/completions", async (c) => {
    const body = (await c.req.json()) as UpstreamCall["body"];
    calls.push({ path: c.req.path, headers: Object.fromEntries(c.req.raw.headers), body });
    const chunk = (delta: object, finish: string | null, usage?: object) =>
      `data: ${JSON.stringify({
        id: "chatcmpl-1",
        object: "chat.completion.chunk",
        created: 1,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })}\n\n`;
    const stream =
      chunk({ role: "assistant", content: answer }, null) +
      chunk({}, "stop", { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 }) +
      "data: [DONE]\n\n";
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });
  let server!: ReturnType<typeof serve>;
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
