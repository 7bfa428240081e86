import {
  type FallbackModel,
  GATEWAY_PROVIDER,
  type ModelSettings,
  parseModelRef,
} from "./model-settings";

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelConfigError";
  }
}

/**
 * What runs use: `--model`, else the app's model, else central's gateway (`auraison/auto`) when
 * the agent has a central, else the local fallback. The gateway needs central; the fallback
 * needs both its base URL and model.
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
  const chosen =
    input.model ??
    input.appModel ??
    (input.gateway
      ? `${GATEWAY_PROVIDER}/auto`
      : fallback
        ? `fallback/${fallback.model}`
        : undefined);
  if (!chosen)
    throw new ModelConfigError(
      "no model: pass --model <provider/model> (e.g. anthropic/claude-sonnet-4-5), --central for the gateway, or --fallback-base-url and --fallback-model",
    );
  let primary: ReturnType<typeof parseModelRef>;
  try {
    primary = parseModelRef(chosen);
  } catch (error) {
    throw new ModelConfigError(error instanceof Error ? error.message : String(error));
  }
  if (primary.provider === GATEWAY_PROVIDER && !input.gateway)
    throw new ModelConfigError(`${chosen} is central's gateway, but no central is configured`);
  return { primary, gateway: input.gateway, fallback };
}
