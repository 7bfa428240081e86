import type { GatewayConfigInput } from "../../contract";

type ProviderConfigInput = NonNullable<GatewayConfigInput["providers"]>[number];

/** Which model the local stack's edge agent runs on, decided from the environment. */
export type LocalModelPlan =
  | {
      kind: "gateway";
      /** The gateway config the stack applies to the local tenant: `auto` over these providers. */
      config: GatewayConfigInput;
      /** Provider keys, handed to central as Worker secrets (never in the config itself). */
      secrets: Record<string, string>;
    }
  | { kind: "gateway-file"; file: string }
  | { kind: "scripted"; app: string };

/**
 * A provider the environment names becomes a gateway provider under the alias `auto` (in this
 * order: Anthropic, OpenAI, an OpenAI-compatible server such as a lab vLLM or Ollama), so the
 * edge's default model, `auraison/auto`, reaches it through central. Nothing named: the app's
 * scripted model, labelled as such.
 */
export function localModelPlan(
  app: string,
  env: NodeJS.ProcessEnv = process.env,
  gatewayFile?: string,
): LocalModelPlan {
  if (gatewayFile) return { kind: "gateway-file", file: gatewayFile };
  const providers: ProviderConfigInput[] = [];
  const secrets: Record<string, string> = {};
  if (env.ANTHROPIC_API_KEY) {
    secrets.ANTHROPIC_API_KEY = env.ANTHROPIC_API_KEY;
    providers.push({
      id: "anthropic",
      kind: "anthropic",
      models: [env.AURAISON_ANTHROPIC_MODEL || "claude-sonnet-4-5"],
      key: { secret: "ANTHROPIC_API_KEY" },
    });
  }
  if (env.OPENAI_API_KEY) {
    secrets.OPENAI_API_KEY = env.OPENAI_API_KEY;
    providers.push({
      id: "openai",
      kind: "openai",
      models: [env.AURAISON_OPENAI_MODEL || "gpt-4.1"],
      key: { secret: "OPENAI_API_KEY" },
    });
  }
  if (env.AURAISON_FALLBACK_BASE_URL && env.AURAISON_FALLBACK_MODEL) {
    if (env.AURAISON_FALLBACK_KEY) secrets.AURAISON_FALLBACK_KEY = env.AURAISON_FALLBACK_KEY;
    providers.push({
      id: "lab",
      kind: "openai-compatible",
      base_url: env.AURAISON_FALLBACK_BASE_URL,
      models: [env.AURAISON_FALLBACK_MODEL],
      ...(env.AURAISON_FALLBACK_KEY ? { key: { secret: "AURAISON_FALLBACK_KEY" } } : {}),
    });
  }
  if (providers.length === 0) return { kind: "scripted", app };
  const candidates = providers.map((p) => `${p.id}/${p.models[0]}`);
  return {
    kind: "gateway",
    config: { providers, aliases: { auto: { candidates, strategy: "ordered" } } },
    secrets,
  };
}

export function describePlan(plan: LocalModelPlan): string {
  switch (plan.kind) {
    case "scripted":
      return `scripted/${plan.app} — the app's fixed offline demo scenario, NOT a real model (set ANTHROPIC_API_KEY, OPENAI_API_KEY or AURAISON_FALLBACK_BASE_URL + AURAISON_FALLBACK_MODEL for real runs)`;
    case "gateway-file":
      return `central's gateway (auraison/auto), configured from ${plan.file}`;
    case "gateway":
      return `central's gateway (auraison/auto) routing to ${plan.config.aliases?.auto?.candidates.join(" -> ")} (unpriced until you add prices: auraison gateway apply)`;
  }
}
