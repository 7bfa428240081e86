/** Which model the local stack's edge agent runs on, decided from the environment. */
export type LocalModelPlan =
  | {
      kind: "providers";
      /** Providers named by the environment, for the gateway to route to. */
      providers: Array<"anthropic" | "openai" | "openai-compatible">;
    }
  | { kind: "scripted"; app: string };

export function localModelPlan(app: string, env: NodeJS.ProcessEnv = process.env): LocalModelPlan {
  const providers: Array<"anthropic" | "openai" | "openai-compatible"> = [];
  if (env.ANTHROPIC_API_KEY) providers.push("anthropic");
  if (env.OPENAI_API_KEY) providers.push("openai");
  if (env.AURAISON_FALLBACK_BASE_URL && env.AURAISON_FALLBACK_MODEL)
    providers.push("openai-compatible");
  return providers.length > 0 ? { kind: "providers", providers } : { kind: "scripted", app };
}

export function describePlan(plan: LocalModelPlan): string {
  return plan.kind === "scripted"
    ? `scripted/${plan.app} — the app's fixed offline demo scenario, NOT a real model (set ANTHROPIC_API_KEY, OPENAI_API_KEY or AURAISON_FALLBACK_BASE_URL + AURAISON_FALLBACK_MODEL for real runs)`
    : `central's gateway (auraison/auto) routing to ${plan.providers.join(", ")}`;
}
