import type { ModelRuntime } from "@earendil-works/pi-coding-agent";
import { HEADERS } from "../../contract";
import { DEFAULT_LIMITS, gatewayLimits } from "./gateway-limits";
import { GATEWAY_PROVIDER, type ModelRef, type ModelSettings } from "./model-settings";
import { SCRIPTED_PROVIDER, scriptedStream } from "./scripted";

export const FALLBACK_PROVIDER = "fallback";

const UNPRICED = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

export interface Attribution {
  runId: string;
  agentId: string;
  app: string;
  intentType: string;
}

/**
 * Registers the platform's providers with a run's model runtime: central's model gateway as an
 * OpenAI-compatible provider (base URL `<central>/v1`, the agent key as the credential, and
 * attribution headers naming the run so the gateway can bill it), and the local fallback.
 * Everything else (`anthropic/...`, `openai/...`) is pi's built-in catalogue, keys from env.
 */
export async function registerPlatformProviders(
  runtime: ModelRuntime,
  settings: ModelSettings,
  attribution: Attribution,
): Promise<void> {
  if (settings.gateway) {
    const alias = settings.primary.provider === GATEWAY_PROVIDER ? settings.primary.id : "auto";
    const limits = await gatewayLimits(settings.gateway, alias);
    await runtime.setRuntimeApiKey(GATEWAY_PROVIDER, settings.gateway.key);
    runtime.registerProvider(GATEWAY_PROVIDER, {
      name: "Auraison gateway",
      baseUrl: `${settings.gateway.url.replace(/\/+$/, "")}/v1`,
      apiKey: settings.gateway.key,
      api: "openai-completions",
      headers: {
        [HEADERS.run]: attribution.runId,
        [HEADERS.agent]: attribution.agentId,
        [HEADERS.app]: attribution.app,
        [HEADERS.intentType]: attribution.intentType,
      },
      models: [{ ...model(alias, limits.contextWindow), maxTokens: limits.maxTokens }],
    });
  }
  if (settings.scripted) {
    const app = settings.primary.id;
    const { api, streamSimple } = scriptedStream(settings.scripted.scenario, app, {
      skills: settings.scripted.skillsDir,
    });
    await runtime.setRuntimeApiKey(SCRIPTED_PROVIDER, "scripted");
    runtime.registerProvider(SCRIPTED_PROVIDER, {
      name: "Scripted demo scenario (not a real model)",
      baseUrl: "scripted://offline",
      apiKey: "scripted",
      api,
      streamSimple,
      models: [{ ...model(app, DEFAULT_LIMITS.contextWindow), name: `${app} scripted scenario` }],
    });
  }
  if (settings.fallback) {
    await runtime.setRuntimeApiKey(FALLBACK_PROVIDER, settings.fallback.apiKey);
    runtime.registerProvider(FALLBACK_PROVIDER, {
      name: "Local fallback",
      baseUrl: settings.fallback.baseUrl.replace(/\/+$/, ""),
      apiKey: settings.fallback.apiKey,
      api: "openai-completions",
      models: [
        {
          ...model(settings.fallback.model, DEFAULT_LIMITS.contextWindow),
          compat: { supportsDeveloperRole: false, supportsReasoningEffort: false },
        },
      ],
    });
  }
}

/**
 * The model a run starts on: the primary, unless that is the gateway and central cannot be
 * reached while a local fallback is configured.
 */
export function chooseModel(settings: ModelSettings, centralReachable: boolean): ModelRef {
  if (settings.primary.provider === GATEWAY_PROVIDER && !centralReachable && settings.fallback)
    return fallbackRef(settings);
  return settings.primary;
}

export function fallbackRef(settings: ModelSettings): ModelRef {
  if (!settings.fallback) throw new Error("no fallback model configured");
  return { provider: FALLBACK_PROVIDER, id: settings.fallback.model };
}

function model(id: string, contextWindow: number) {
  return {
    id,
    name: id,
    reasoning: false,
    input: ["text" as const],
    cost: UNPRICED,
    contextWindow,
    maxTokens: DEFAULT_LIMITS.maxTokens,
  };
}
