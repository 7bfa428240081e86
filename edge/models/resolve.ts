import {
  type FallbackModel,
  GATEWAY_PROVIDER,
  type ModelSettings,
  parseModelRef,
} from "./model-settings";
import { SCRIPTED_PROVIDER, type ScriptedScenario } from "./scripted";

/** Provider keys pi reads from the environment, and the model used when one is present. */
const ENV_PROVIDERS = [
  { key: "ANTHROPIC_API_KEY", model: "anthropic/claude-sonnet-4-5" },
  { key: "OPENAI_API_KEY", model: "openai/gpt-4.1" },
] as const;

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelConfigError";
  }
}

/**
 * What runs use, first match: `--model`; the app's model; central's gateway (`auraison/auto`)
 * when the agent has a central; the local fallback; a provider whose key is in the environment
 * (ANTHROPIC_API_KEY, OPENAI_API_KEY); the app's scripted demo scenario. The gateway needs
 * central; the fallback needs both its base URL and model; `scripted/<app>` needs the app's
 * scripted-model.json.
 */
export function resolveModelSettings(input: {
  model?: string | undefined;
  appModel?: string | undefined;
  gateway: { url: string; key: string } | null;
  fallback: {
    baseUrl?: string | undefined;
    model?: string | undefined;
    apiKey?: string | undefined;
  };
  app: string;
  scripted?: { scenario: ScriptedScenario; skillsDir: string } | null;
  env?: NodeJS.ProcessEnv;
}): ModelSettings {
  const { baseUrl, model, apiKey } = input.fallback;
  if ((baseUrl === undefined) !== (model === undefined))
    throw new ModelConfigError("--fallback-base-url and --fallback-model go together");
  let fallback: FallbackModel | null = null;
  if (baseUrl && model) {
    try {
      new URL(baseUrl);
    } catch {
      throw new ModelConfigError(`--fallback-base-url '${baseUrl}' is not a URL`);
    }
    fallback = { baseUrl, model, apiKey: apiKey || "none" };
  }
  const env = input.env ?? process.env;
  const scripted = input.scripted ?? null;
  const chosen =
    input.model ??
    input.appModel ??
    (input.gateway
      ? `${GATEWAY_PROVIDER}/auto`
      : fallback
        ? `fallback/${fallback.model}`
        : (ENV_PROVIDERS.find((p) => env[p.key])?.model ??
          (scripted ? `${SCRIPTED_PROVIDER}/${input.app}` : undefined)));
  if (!chosen)
    throw new ModelConfigError(
      "no model: pass --model <provider/model> (e.g. anthropic/claude-sonnet-4-5), --central for the gateway, --fallback-base-url and --fallback-model, or set ANTHROPIC_API_KEY or OPENAI_API_KEY",
    );
  let primary: ReturnType<typeof parseModelRef>;
  try {
    primary = parseModelRef(chosen);
  } catch (error) {
    throw new ModelConfigError(error instanceof Error ? error.message : String(error));
  }
  if (primary.provider === GATEWAY_PROVIDER && !input.gateway)
    throw new ModelConfigError(`${chosen} is central's gateway, but no central is configured`);
  if (primary.provider === SCRIPTED_PROVIDER && (!scripted || primary.id !== input.app))
    throw new ModelConfigError(
      `${chosen} is an app's scripted demo model, but app '${input.app}' has no scripted-model.json`,
    );
  return {
    primary,
    gateway: input.gateway,
    fallback,
    scripted: primary.provider === SCRIPTED_PROVIDER ? scripted : null,
  };
}
