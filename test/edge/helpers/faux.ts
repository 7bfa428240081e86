import {
  type AssistantMessage,
  createFauxCore,
  fauxAssistantMessage,
  fauxText,
  fauxToolCall,
  type JsonObject,
  type TranscriptContext,
} from "@earendil-works/pi-ai";
import type { ExtensionAPI, ExtensionFactory } from "@earendil-works/pi-coding-agent";
import { isSummaryRequest } from "../../../edge/models/scripted";

/** One scripted model answer. */
export type FauxStep =
  | { text: string }
  | { tool: string; args: JsonObject }
  | { tools: Array<{ tool: string; args: JsonObject }>; text?: string }
  | { error: string }
  /** The same call for ever: for stuck-loop tests. */
  | { repeat: { tool: string; args: JsonObject } }
  | { delay_ms: number; then: FauxStep };

export const FAUX_MODEL = "faux/faux-1";

/**
 * A pi extension registering a scripted model as provider `faux`. The answer is picked by how
 * many assistant messages the context already holds, so a resumed or re-loaded session picks up
 * the script where the transcript is, with no state in the extension.
 */
export function fauxProvider(
  steps: FauxStep[] | ((context: TranscriptContext) => FauxStep),
  options: { tokensPerSecond?: number; contextWindow?: number } = {},
): ExtensionFactory {
  return (pi: ExtensionAPI) => {
    const faux = createFauxCore({
      provider: "faux",
      ...(options.tokensPerSecond ? { tokensPerSecond: options.tokensPerSecond } : {}),
    });
    const respond = async (context: TranscriptContext): Promise<AssistantMessage> => {
      if (isSummaryRequest(context))
        return answer({ text: "## Goal\nSummary of the conversation so far." });
      if (typeof steps === "function") return answer(steps(context));
      const index = context.messages.filter(
        (m) => m.role === "assistant" && m.stopReason !== "error" && m.stopReason !== "aborted",
      ).length;
      const last = steps.at(-1);
      const step =
        steps[index] ?? (last && "repeat" in last ? last : { text: "(script exhausted)" });
      return answer(step);
    };
    faux.setResponses(Array.from({ length: 10_000 }, () => respond));
    pi.registerProvider("faux", {
      api: faux.api,
      baseUrl: "http://faux.invalid",
      apiKey: "faux",
      streamSimple: faux.streamSimple,
      models: [
        {
          id: "faux-1",
          name: "Faux",
          reasoning: false,
          input: ["text"],
          cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
          contextWindow: options.contextWindow ?? 128_000,
          maxTokens: 16_384,
        },
      ],
    });
  };
}

async function answer(step: FauxStep): Promise<AssistantMessage> {
  if ("delay_ms" in step) {
    await new Promise((resolve) => setTimeout(resolve, step.delay_ms));
    return answer(step.then);
  }
  if ("error" in step)
    return fauxAssistantMessage([], { stopReason: "error", errorMessage: step.error });
  if ("repeat" in step)
    return fauxAssistantMessage([fauxToolCall(step.repeat.tool, step.repeat.args)], {
      stopReason: "toolUse",
    });
  if ("tool" in step)
    return fauxAssistantMessage([fauxToolCall(step.tool, step.args)], { stopReason: "toolUse" });
  if ("tools" in step)
    return fauxAssistantMessage(
      [
        ...(step.text ? [fauxText(step.text)] : []),
        ...step.tools.map((t) => fauxToolCall(t.tool, t.args)),
      ],
      { stopReason: "toolUse" },
    );
  return fauxAssistantMessage(step.text);
}

/**
 * A scripted model whose context "overflows" once, after three tool calls of 40,000 characters
 * each (about 30k tokens: more than the 20k recent tokens pi keeps uncompacted, so compaction
 * has something to summarise): pi compacts and the run carries on to the end.
 */
export function overflowingModel(): ExtensionFactory {
  return fauxProvider((context) => {
    const results = context.messages.filter((m) => m.role === "toolResult").length;
    const compacted = context.messages.some(
      (m) => m.role === "user" && JSON.stringify(m.content).includes("Summary of the conversation"),
    );
    if (compacted) return { text: "finished after compaction" };
    if (results < 3)
      return { tool: "bash", args: { command: "head -c 40000 /dev/zero | tr '\\0' x" } };
    return { error: "prompt is too long: 250000 tokens > 200000 maximum" };
  });
}
