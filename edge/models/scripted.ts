import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type Api,
  type AssistantMessage,
  createFauxCore,
  fauxAssistantMessage,
  fauxText,
  fauxToolCall,
  getSystemMessageText,
  type Model,
  type JsonObject as PiJsonObject,
  type SimpleStreamOptions,
  type TranscriptContext,
} from "@earendil-works/pi-ai";
import { z } from "zod";
import { ContractValidationError, JsonObject, parse, ToolName } from "../../contract";

/**
 * The offline demo model. An app may ship `scripted-model.json`: a fixed scenario that drives
 * the app's real tools so the whole platform can be seen working with no model provider. It is
 * a provider of its own (`scripted/<app>`), printed as such when an agent starts and flagged
 * `scripted: true` in every model_call event: a scripted answer never passes for a real model's.
 */
export const SCRIPTED_PROVIDER = "scripted";
export const SCRIPTED_FILE = "scripted-model.json";

const ScriptedStep = z
  .strictObject({
    /** Text the model "says" before its tool calls. */
    say: z.string().max(4096).optional(),
    /** Tool calls of this turn (run in parallel by pi, like a real model's). */
    tools: z
      .array(z.strictObject({ tool: ToolName, args: JsonObject }))
      .min(1)
      .max(16)
      .optional(),
    /** The final answer; ends the scenario. */
    answer: z.string().max(16_384).optional(),
    /** Thinking time before this step, so a demo (or a test) can catch a run mid-flight. */
    delay_ms: z.number().int().min(0).max(60_000).default(0),
  })
  .refine((s) => (s.tools === undefined) !== (s.answer === undefined), {
    message: "a step has either `tools` or `answer`",
  });

export const ScriptedScenario = z.strictObject({
  description: z.string().min(1).max(1024),
  steps: z.array(ScriptedStep).min(1).max(256),
});
export type ScriptedScenario = z.infer<typeof ScriptedScenario>;

/**
 * The scenario of an app that has no scripted-model.json, for a platform with no model
 * provider at all (the local stack before a key is set): one answer that says so, so a new
 * app's intents still run end to end and nobody mistakes the answer for a model's.
 */
export const PLACEHOLDER_SCENARIO: ScriptedScenario = {
  description:
    "No model provider is configured and the app has no scripted-model.json: answers with a notice instead of a model.",
  steps: [
    {
      answer:
        "[scripted placeholder] No model answered this: the platform has no model provider and this app has no scripted-model.json. " +
        "Set ANTHROPIC_API_KEY, OPENAI_API_KEY or AURAISON_FALLBACK_BASE_URL + AURAISON_FALLBACK_MODEL and restart `auraison dev` for real runs. " +
        "(Task received: {{prompt}})",
      delay_ms: 0,
    },
  ],
};

/** `<app>/scripted-model.json`, validated, or null when the app has none. */
export function loadScriptedScenario(appRoot: string | null): ScriptedScenario | null {
  if (!appRoot) return null;
  const file = join(appRoot, SCRIPTED_FILE);
  if (!existsSync(file)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ContractValidationError(file, [
      { path: "$", expected: "JSON", message: String(error), code: "invalid_json" },
    ]);
  }
  return parse(ScriptedScenario, json, file);
}

export interface ScriptedVariables {
  /** Absolute path of the app's skills folder, for scenarios that run skill scripts. */
  skills: string;
}

/**
 * A pi stream function playing the scenario. The step is chosen by how many answers the
 * conversation already holds, so a resumed or forked session picks up where its transcript is.
 * pi-ai's faux provider does the streaming (deltas, usage estimates); one response is queued
 * per call, so the model serves any number of calls.
 */
export function scriptedStream(scenario: ScriptedScenario, app: string, vars: ScriptedVariables) {
  const faux = createFauxCore({
    api: `scripted-${app}`,
    provider: SCRIPTED_PROVIDER,
    models: [{ id: app, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } }],
    tokensPerSecond: 400,
  });
  const respond = async (context: TranscriptContext): Promise<AssistantMessage> => {
    // The scenario has nothing to add to a compaction summary.
    if (isSummaryRequest(context)) return fauxAssistantMessage("Scripted scenario in progress.");
    const answered = context.messages.filter(
      (m) => m.role === "assistant" && m.stopReason !== "error" && m.stopReason !== "aborted",
    ).length;
    const step = scenario.steps[answered] ?? {
      answer: "The scripted scenario is complete; there is nothing more it can do.",
      delay_ms: 0,
    };
    if (step.delay_ms) await new Promise((resolve) => setTimeout(resolve, step.delay_ms));
    const fill = (text: string) => substitute(text, { ...vars, prompt: promptOf(context) });
    if (step.answer !== undefined) return fauxAssistantMessage(fill(step.answer));
    return fauxAssistantMessage(
      [
        ...(step.say ? [fauxText(fill(step.say))] : []),
        ...step.tools!.map((call) => fauxToolCall(call.tool, fillArgs(call.args, fill))),
      ],
      { stopReason: "toolUse" },
    );
  };
  return {
    api: faux.api,
    streamSimple: (
      model: Model<Api>,
      context: TranscriptContext,
      options?: SimpleStreamOptions,
    ) => {
      faux.appendResponses([respond]);
      return faux.streamSimple(model, context, options);
    },
  };
}

/**
 * pi's compaction asks the session's model for a summary of the conversation, under its own
 * system prompt (in pi-ai's transcript contexts, the leading system message).
 */
export function isSummaryRequest(context: TranscriptContext): boolean {
  const first = context.messages[0];
  return (
    first?.role === "system" &&
    getSystemMessageText(first).startsWith("You are a context summarization assistant")
  );
}

function promptOf(context: TranscriptContext): string {
  const first = context.messages.find((m) => m.role === "user");
  if (!first) return "";
  if (typeof first.content === "string") return first.content;
  return first.content.map((part) => (part.type === "text" ? part.text : "")).join("");
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (match, name: string) => vars[name] ?? match);
}

/** The scenario's arguments with variables filled in; they are JSON (the contract's JsonObject). */
function fillArgs(args: Record<string, unknown>, fill: (text: string) => string): PiJsonObject {
  const walk = (value: unknown): unknown =>
    typeof value === "string"
      ? fill(value)
      : Array.isArray(value)
        ? value.map(walk)
        : value && typeof value === "object"
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]))
          : value;
  return walk(args) as PiJsonObject;
}
