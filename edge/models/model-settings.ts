import type { ScriptedScenario } from "./scripted";

/** The provider name under which central's model gateway is registered with pi. */
export { GATEWAY_PROVIDER } from "../../contract";

/** `provider/model`, as `--model` and app.json spell it. */
export interface ModelRef {
  provider: string;
  id: string;
}

export function parseModelRef(text: string): ModelRef {
  const slash = text.indexOf("/");
  if (slash <= 0 || slash === text.length - 1)
    throw new Error(
      `'${text}' is not provider/model (e.g. auraison/auto, anthropic/claude-sonnet-4-5)`,
    );
  return { provider: text.slice(0, slash), id: text.slice(slash + 1) };
}

export function formatModelRef(ref: ModelRef): string {
  return `${ref.provider}/${ref.id}`;
}

/** An OpenAI-compatible server on the lab host (vLLM, Ollama, ...) used while central is away. */
export interface FallbackModel {
  baseUrl: string;
  model: string;
  apiKey: string;
}

export interface ModelSettings {
  /** What runs use when nothing is wrong. */
  primary: ModelRef;
  /** Central's gateway, when this agent has a central. */
  gateway: { url: string; key: string } | null;
  fallback: FallbackModel | null;
  /** The app's offline demo scenario, when runs use `scripted/<app>`. */
  scripted: { scenario: ScriptedScenario; skillsDir: string } | null;
}
