import { GatewayConfig, type GatewayConfigInput, type ProviderSecretOffers } from "../../contract";

type ProviderConfigInput = NonNullable<GatewayConfigInput["providers"]>[number];

/** Which model the local stack's edge agent runs on, decided from the environment. */
export type LocalModelPlan =
  | {
      kind: "gateway";
      /** The gateway config the stack applies to the local tenant. */
      config: GatewayConfigInput;
      /** Provider keys, handed to central as Worker secrets (never in the config itself). */
      secrets: Record<string, string>;
      /** Central's offer of those secrets to the local tenant, each for its provider's host. */
      offers: ProviderSecretOffers;
      /** The config file it came from; absent: built from the environment. */
      file?: string;
    }
  | { kind: "scripted"; app: string };

/** Hosted providers the environment can name by their key, in routing order. */
const HOSTED = [
  {
    id: "anthropic",
    kind: "anthropic",
    key: "ANTHROPIC_API_KEY",
    modelVar: "AURAISON_ANTHROPIC_MODEL",
    model: "claude-sonnet-4-5",
  },
  {
    id: "openai",
    kind: "openai",
    key: "OPENAI_API_KEY",
    modelVar: "AURAISON_OPENAI_MODEL",
    model: "gpt-4.1",
  },
] as const;

/**
 * A provider the environment names becomes a gateway provider under the alias `auto` (in this
 * order: Anthropic, OpenAI, an OpenAI-compatible server such as a lab vLLM or Ollama), so the
 * edge's default model, `auraison/auto`, reaches it through central. A gateway config file
 * replaces all that. Nothing named: the app's scripted model, labelled as such.
 */
export function localModelPlan(
  app: string,
  env: NodeJS.ProcessEnv = process.env,
  gatewayFile?: { file: string; config: GatewayConfigInput },
): LocalModelPlan {
  if (gatewayFile) {
    const secrets = namedSecrets(gatewayFile.config, env);
    return {
      kind: "gateway",
      secrets,
      offers: offersFor(gatewayFile.config, secrets),
      ...gatewayFile,
    };
  }
  const providers: ProviderConfigInput[] = [];
  const secrets: Record<string, string> = {};
  for (const hosted of HOSTED) {
    const key = env[hosted.key];
    if (!key) continue;
    secrets[hosted.key] = key;
    providers.push({
      id: hosted.id,
      kind: hosted.kind,
      models: [env[hosted.modelVar] || hosted.model],
      key: { secret: hosted.key },
    });
  }
  if (env.AURAISON_FALLBACK_BASE_URL && env.AURAISON_FALLBACK_MODEL) {
    if (env.AURAISON_FALLBACK_KEY) secrets[FALLBACK_SECRET] = env.AURAISON_FALLBACK_KEY;
    providers.push({
      id: "lab",
      kind: "openai-compatible",
      base_url: env.AURAISON_FALLBACK_BASE_URL,
      models: [env.AURAISON_FALLBACK_MODEL],
      ...(env.AURAISON_FALLBACK_KEY ? { key: { secret: FALLBACK_SECRET } } : {}),
    });
  }
  if (providers.length === 0) return { kind: "scripted", app };
  const candidates = providers.map((p) => `${p.id}/${p.models[0]}`);
  const config: GatewayConfigInput = {
    providers,
    aliases: { auto: { candidates, strategy: "ordered" } },
  };
  return { kind: "gateway", config, secrets, offers: offersFor(config, secrets) };
}

/** The Worker secret the lab's fallback key becomes (AURAISON_* names are the platform's own). */
const FALLBACK_SECRET = "LAB_FALLBACK_KEY";

/**
 * Each secret the local stack hands central, offered to the local tenant for the hosts of the
 * providers that name it (their base URLs, defaults included), and nowhere else.
 */
function offersFor(
  config: GatewayConfigInput,
  secrets: Record<string, string>,
): ProviderSecretOffers {
  const parsed = GatewayConfig.safeParse(config);
  if (!parsed.success) return {};
  const offers: ProviderSecretOffers = {};
  for (const provider of parsed.data.providers) {
    if (!("base_url" in provider)) continue;
    const host = new URL(provider.base_url).hostname;
    const keys = [provider.key, "gateway_token" in provider ? provider.gateway_token : undefined];
    for (const key of keys) {
      if (!key || !("secret" in key) || !(key.secret in secrets)) continue;
      const hosts = offers[key.secret]?.hosts ?? [];
      offers[key.secret] = { hosts: hosts.includes(host) ? hosts : [...hosts, host] };
    }
  }
  return offers;
}

/** The Worker secrets a config names (`{"secret": NAME}`) that the environment has values for. */
function namedSecrets(config: GatewayConfigInput, env: NodeJS.ProcessEnv): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const provider of config.providers ?? []) {
    const keys = [
      "key" in provider ? provider.key : undefined,
      "gateway_token" in provider ? provider.gateway_token : undefined,
    ];
    for (const key of keys) {
      const name = key && "secret" in key ? key.secret : null;
      const value = name ? env[name] : undefined;
      if (name && value) secrets[name] = value;
    }
  }
  return secrets;
}

export function describePlan(plan: LocalModelPlan): string {
  if (plan.kind === "scripted")
    return `scripted/${plan.app} — the app's fixed offline demo scenario, NOT a real model (set ANTHROPIC_API_KEY, OPENAI_API_KEY or AURAISON_FALLBACK_BASE_URL + AURAISON_FALLBACK_MODEL for real runs)`;
  if (plan.file) return `central's gateway (auraison/auto), configured from ${plan.file}`;
  return `central's gateway (auraison/auto) routing to ${plan.config.aliases?.auto?.candidates.join(" -> ")} (unpriced until you add prices: auraison gateway apply)`;
}
