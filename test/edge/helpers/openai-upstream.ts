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
/** One answer of a scripted upstream: text, or a call of one tool. */
export type UpstreamAnswer = string | { tool: string; args: Record<string, unknown> };

export async function openAiUpstream(
  answer: UpstreamAnswer | UpstreamAnswer[],
  options: { callIds?: boolean } = {},
) {
  const answers = Array.isArray(answer) ? answer : [answer];
  const calls: UpstreamCall[] = [];
  const app = new Hono();
  app.post("*/chat/completions", async (c) => {
    const body = (await c.req.json()) as UpstreamCall["body"];
    calls.push({ path: c.req.path, headers: Object.fromEntries(c.req.raw.headers), body });
    const next = answers[Math.min(calls.length - 1, answers.length - 1)]!;
    const chunk = (delta: object, finish: string | null, usage?: object) =>
      `data: ${JSON.stringify({
        id: `chatcmpl-${calls.length}`,
        object: "chat.completion.chunk",
        created: 1,
        model: body.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
        ...(usage ? { usage } : {}),
      })}\n\n`;
    const usage = { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 };
    const stream =
      typeof next === "string"
        ? chunk({ role: "assistant", content: next }, null) + chunk({}, "stop", usage)
        : chunk(
            {
              role: "assistant",
              tool_calls: [
                {
                  index: 0,
                  id: `call_${calls.length}`,
                  type: "function",
                  function: { name: next.tool, arguments: JSON.stringify(next.args) },
                },
              ],
            },
            null,
          ) + chunk({}, "tool_calls", usage);
    // Central's gateway names each call it served (x-auraison-call-id); a stand-in for it does too.
    const headers: Record<string, string> = { "content-type": "text/event-stream" };
    if (options.callIds) headers["x-auraison-call-id"] = `gw-call-${calls.length}`;
    return new Response(`${stream}data: [DONE]\n\n`, { headers });
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
