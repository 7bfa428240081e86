import { z } from "zod";
import { JsonObject } from "../../../contract";
import {
  AdapterName,
  DeclaredTool,
  HttpUrl,
  InputSchema,
  TimeoutMs,
  uniqueTools,
} from "../declaration";
import { MaxResponseBytes } from "../response-cap";

const InferenceTool = z.strictObject({
  ...DeclaredTool,
  /** The served model; defaults to the adapter's. */
  model: z.string().min(1).max(256).optional(),
  /** The system prompt the model runs under (its task: "output the next action as JSON"). */
  system: z.string().max(32_000).optional(),
  /**
   * Which argument holds the text for the model (the rest of the arguments, when there is
   * more, go along as JSON), and which one a list of image URLs (http(s) or data:).
   */
  prompt_arg: z.string().min(1).max(64).default("prompt"),
  images_arg: z.string().min(1).max(64).default("images"),
  input_schema: InputSchema.optional(),
  /** Ask for a JSON object (response_format json_object) and parse the answer as JSON. */
  json: z.boolean().default(false),
  max_tokens: z.number().int().positive().max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** More request fields passed as they are (vLLM's guided_json, top_k, ...). */
  extra_body: JsonObject.optional(),
  timeout_ms: TimeoutMs.optional(),
});
export type InferenceTool = z.infer<typeof InferenceTool>;

/**
 * `<app>/adapters/<name>.json` with `"kind": "openai-inference"`: a model on an
 * OpenAI-compatible server (vLLM, TGI, Ollama, LM Studio) used as a tool, e.g. a VLA policy or a
 * perception model — not the agent's own model.
 */
export const OpenAiInferenceDeclaration = z
  .strictObject({
    kind: z.literal("openai-inference"),
    name: AdapterName,
    base_url: HttpUrl,
    /** Sent as the bearer token; write it as ${NAME}. */
    api_key: z.string().min(1).optional(),
    model: z.string().min(1).max(256),
    /** Stream the answer (progress events while it comes); off for servers that cannot. */
    stream: z.boolean().default(true),
    /** The whole call, default for every tool without its own. */
    timeout_ms: TimeoutMs.default(120_000),
    /** While streaming: the longest silence between two chunks (the first included). */
    idle_timeout_ms: TimeoutMs.default(30_000),
    /** The most of one answer read: a stream's text, or a whole answer's body. */
    max_response_bytes: MaxResponseBytes,
    tools: z.array(InferenceTool).min(1).max(64),
  })
  .superRefine((d, ctx) => uniqueTools(d.tools, ctx));
export type OpenAiInferenceDeclaration = z.infer<typeof OpenAiInferenceDeclaration>;
