import type { ProviderTarget } from "../admission";

type Scripted = Extract<ProviderTarget, { kind: "scripted" }>;

/** About four characters a token: what a scripted answer reports as its usage. */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/**
 * A scripted provider's answer to one OpenAI-dialect request: the first rule whose `when` is
 * in the conversation's text (or has none) answers, as a chat completion or a stream of one.
 * No network: for offline use and tests, and labelled by its model name.
 */
export function scriptedAnswer(
  provider: Scripted,
  body: Record<string, unknown>,
  stream: boolean,
): Response {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const text = messages
    .map((m) => {
      const content = (m as { content?: unknown }).content;
      return typeof content === "string" ? content : JSON.stringify(content ?? "");
    })
    .join("\n");
  const rule = provider.script.find((r) => r.when === undefined || text.includes(r.when));
  if (!rule)
    return Response.json(
      {
        error: {
          message: "no rule of this scripted provider matches the request",
          type: "invalid_request_error",
          code: null,
        },
      },
      { status: 400 },
    );
  const model = typeof body.model === "string" ? body.model : provider.models[0]!;
  const usage = {
    prompt_tokens: tokens(text),
    completion_tokens: tokens(rule.answer),
    total_tokens: tokens(text) + tokens(rule.answer),
  };
  const id = `scripted-${crypto.randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!stream)
    return Response.json({
      id,
      object: "chat.completion",
      created,
      model,
      choices: [
        { index: 0, message: { role: "assistant", content: rule.answer }, finish_reason: "stop" },
      ],
      usage,
    });
  const chunk = (delta: unknown, finish: string | null, extra: object = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
  const sse =
    chunk({ role: "assistant", content: rule.answer }, null) +
    chunk({}, "stop") +
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n` +
    "data: [DONE]\n\n";
  return new Response(sse, { headers: { "content-type": "text/event-stream" } });
}
