import OpenAI from "openai";
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { type JsonValue, parse, redactedExcerpt, redactedTail } from "../../../contract";
import type { AdapterFactory, AdapterTool } from "../adapter";
import { CallDeadline, errorText, resultOf } from "../call";
import { checkReferences, resolveReferences, resolveUrl, runValues } from "../references";
import { readCapped, tooLarge } from "../response-cap";
import { type InferenceTool, OpenAiInferenceDeclaration } from "./declaration";

const PROGRESS_CHARS = 2_000;
/** Past PROGRESS_CHARS, a progress note each time the answer grew by this much. */
const PROGRESS_STEP = 500;

/** Tools that ask a model on an OpenAI-compatible server (vLLM) and return its answer. */
export const openAiInferenceAdapter: AdapterFactory = (declaration, { file, env, secrets }) => {
  const parsed = parse(OpenAiInferenceDeclaration, declaration, file);
  const d = { ...parsed, base_url: resolveUrl(parsed.base_url, env, file, "base_url") };
  // The key resolves per call, so a run's tenant secrets reach it; checked now for typos.
  if (d.api_key) checkReferences(d.api_key, env, secrets ?? [], file, "api_key");
  // A client per call holds that call's key (the SDK only builds requests; fetch pools the
  // connections). Its own retries would hide failures and stretch timeouts; a failed call is
  // the model's to retry, with the reason in hand.
  const clientFor: ClientFor = (runSecrets) =>
    new OpenAI({
      baseURL: d.base_url,
      apiKey: d.api_key
        ? resolveReferences(d.api_key, runValues(env, runSecrets), file, "api_key")
        : "unused",
      maxRetries: 0,
      timeout: 24 * 3_600_000,
    });
  return {
    kind: "openai-inference",
    name: d.name,
    tools: d.tools.map((t) => inferenceTool(t, clientFor, d)),
  };
};

type ClientFor = (runSecrets: Readonly<Record<string, string>> | undefined) => OpenAI;

function inferenceTool(
  t: InferenceTool,
  clientFor: ClientFor,
  d: OpenAiInferenceDeclaration,
): AdapterTool {
  const model = t.model ?? d.model;
  return {
    name: t.tool,
    description: t.description,
    input_schema: t.input_schema ?? {
      type: "object",
      properties: {
        [t.prompt_arg]: { type: "string", description: "what to ask the model" },
        [t.images_arg]: {
          type: "array",
          items: { type: "string" },
          description: "image URLs (http(s) or data:) for a vision model",
        },
      },
      required: [t.prompt_arg],
    },
    async execute(args, { signal, progress, secrets }) {
      const client = clientFor(secrets);
      const deadline = new CallDeadline(
        `${model} at ${d.base_url}`,
        t.timeout_ms ?? d.timeout_ms,
        signal,
      );
      const request = {
        model,
        messages: messagesOf(t, args),
        ...(t.max_tokens === undefined ? {} : { max_tokens: t.max_tokens }),
        ...(t.temperature === undefined ? {} : { temperature: t.temperature }),
        ...(t.json ? { response_format: { type: "json_object" as const } } : {}),
        ...(t.extra_body ?? {}),
      };
      let answer: Answer;
      try {
        answer = await deadline.guard(() =>
          d.stream
            ? streamed(client, request, deadline, d, progress)
            : whole(client, request, deadline, d.max_response_bytes),
        );
      } catch (error) {
        throw new Error(describe(error, model));
      }
      const output = t.json ? parseJson(answer.text, model) : answer.text;
      return resultOf(
        { model, output, finish_reason: answer.finish, usage: answer.usage },
        typeof output === "string" ? output : JSON.stringify(output, null, 2),
      );
    },
  };
}

type Request = Omit<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, "stream">;

interface Answer {
  text: string;
  finish: string | null;
  usage: JsonValue;
}

/** The answer read through the cap (the SDK's own parsing would read it whole first). */
async function whole(
  client: OpenAI,
  request: Request,
  deadline: CallDeadline,
  maxBytes: number,
): Promise<Answer> {
  const response = await client.chat.completions
    .create({ ...request, stream: false }, { signal: deadline.signal })
    .asResponse();
  const body = await readCapped(response, maxBytes);
  let completion: OpenAI.Chat.ChatCompletion;
  try {
    completion = JSON.parse(body) as OpenAI.Chat.ChatCompletion;
  } catch {
    throw new Error(`the server's answer is not JSON: ${redactedExcerpt(body, 500)}`);
  }
  const choice = completion.choices?.[0];
  return {
    text: choice?.message.content ?? "",
    finish: choice?.finish_reason ?? null,
    usage: (completion.usage ?? null) as JsonValue,
  };
}

/** Streams the answer; progress carries what has come so far, and a silent server times out. */
async function streamed(
  client: OpenAI,
  request: Request,
  deadline: CallDeadline,
  limits: { idle_timeout_ms: number; max_response_bytes: number },
  progress: ((text: string) => void) | undefined,
): Promise<Answer> {
  const { idle_timeout_ms: idleTimeoutMs, max_response_bytes: maxBytes } = limits;
  const idle = new AbortController();
  let timer = setTimeout(() => idle.abort(), idleTimeoutMs);
  const signal = AbortSignal.any([deadline.signal, idle.signal]);
  try {
    const stream = await client.chat.completions.create(
      { ...request, stream: true, stream_options: { include_usage: true } },
      { signal },
    );
    let text = "";
    let bytes = 0;
    /** The answer's length at its last progress note. */
    let noted = 0;
    let finish: string | null = null;
    let usage: JsonValue = null;
    for await (const chunk of stream) {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), idleTimeoutMs);
      const choice = chunk.choices[0];
      if (chunk.usage) usage = chunk.usage as unknown as JsonValue;
      if (choice?.finish_reason) finish = choice.finish_reason;
      const delta = choice?.delta?.content;
      if (delta) {
        // Leaving the loop closes the stream, which tells the server to stop generating.
        bytes += Buffer.byteLength(delta);
        if (bytes > maxBytes) throw tooLarge(maxBytes);
        text += delta;
        // A whole answer is redacted when its progress event is. A longer one is cut to its tail,
        // redacted before the cut (a secret the cut split would pass the event's redaction); that
        // costs a window's redaction, so its notes follow every PROGRESS_STEP characters rather
        // than every chunk (chunks are often one token).
        if (text.length <= PROGRESS_CHARS) progress?.(text);
        else if (text.length - noted >= PROGRESS_STEP || noted <= PROGRESS_CHARS) {
          noted = text.length;
          progress?.(redactedTail(text, PROGRESS_CHARS + 1));
        }
      }
    }
    // The SDK ends the iteration quietly when its signal aborts; so does a dropped connection.
    if (idle.signal.aborted && !deadline.aborted)
      throw new Error(`no data from the model for ${idleTimeoutMs} ms`);
    if (deadline.aborted) throw deadline.error();
    if (finish === null) throw new Error("the stream ended before the answer was complete");
    return { text, finish, usage };
  } catch (error) {
    if (idle.signal.aborted && !deadline.aborted)
      throw new Error(`no data from the model for ${idleTimeoutMs} ms`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function messagesOf(t: InferenceTool, args: Record<string, unknown>): ChatCompletionMessageParam[] {
  const { [t.prompt_arg]: prompt, [t.images_arg]: images, ...rest } = args;
  const text = [
    typeof prompt === "string" ? prompt : prompt === undefined ? "" : JSON.stringify(prompt),
    Object.keys(rest).length > 0 ? JSON.stringify(rest) : "",
  ]
    .filter(Boolean)
    .join("\n\n");
  const imageUrls = Array.isArray(images)
    ? images.filter((i): i is string => typeof i === "string")
    : [];
  const content: string | ChatCompletionContentPart[] =
    imageUrls.length === 0
      ? text
      : [
          { type: "text", text },
          ...imageUrls.map((url) => ({ type: "image_url" as const, image_url: { url } })),
        ];
  return [
    ...(t.system ? [{ role: "system" as const, content: t.system }] : []),
    { role: "user", content },
  ];
}

function parseJson(text: string, model: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    throw new Error(`${model} did not answer JSON: ${redactedExcerpt(text, 500)}`);
  }
}

function describe(error: unknown, model: string): string {
  if (error instanceof OpenAI.APIError && error.status !== undefined)
    return `${model} answered HTTP ${error.status}: ${redactedExcerpt(error.message, 2_000)}`;
  return errorText(error);
}
