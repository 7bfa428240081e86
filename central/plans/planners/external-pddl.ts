import { ExternalPddlPlanner, redactString, type TenantSettings } from "../../../contract";
import { envJson } from "../../env-json";
import { secretRefusal } from "../../gateway/keys/offers";
import { privateUpstreamsAllowed, upstreamUrlProblem } from "../../gateway/providers/upstream-url";
import { readTextUpTo } from "../../http/body";
import { createLogger } from "../../log";

/** What an external planner answered: the plan's ground actions, or why there is none. */
export type ExternalAnswer = { ok: true; actions: string[] } | { ok: false; error: string };

/** An external planner's answer is read up to this size; a plan is far smaller. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

const log = createLogger({ component: "planning" });
/** The operator's endpoint (`AURAISON_PDDL_PLANNER`); none when absent or invalid. */
const operatorPlanner = envJson(ExternalPddlPlanner, {
  name: "AURAISON_PDDL_PLANNER",
  schemaName: "ExternalPddlPlanner",
  fallback: null,
  unused: "it is not used",
  log,
});

/**
 * The external PDDL planner a tenant's large problems go to: the tenant's own
 * (`settings.planning.external_pddl`) or else the operator's (`AURAISON_PDDL_PLANNER`). Its URL
 * obeys the rules of every outbound URL central calls for a tenant (the gateway's providers'),
 * and its token is a Worker secret the operator offers for the endpoint's host; both are checked
 * when the settings are stored and again at every call.
 */
export class ExternalPddlEndpoint {
  constructor(
    private readonly env: Env,
    private readonly tenant: string,
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  /** The endpoint in force for these settings, or null. */
  configured(settings: TenantSettings): ExternalPddlPlanner | null {
    return settings.planning.external_pddl ?? this.operator();
  }

  /** Why this endpoint may not be called for this tenant, with the field at fault; or null. */
  refusal(config: ExternalPddlPlanner): { path: string; message: string } | null {
    const problem = upstreamUrlProblem(config.url, privateUpstreamsAllowed(this.env));
    if (problem) return { path: "url", message: `the planner's URL ${problem}` };
    if (config.token) {
      const refused = secretRefusal(config.token.secret, this.tenant, hostOf(config.url), this.env);
      if (refused) return { path: "token.secret", message: refused };
    }
    return null;
  }

  /** Asks the endpoint for a plan within its timeout; any failure is an answer saying why. */
  async solve(
    config: ExternalPddlPlanner,
    request: { domain: string; problem: string; optimal: boolean },
  ): Promise<ExternalAnswer> {
    const refused = this.refusal(config);
    if (refused) return { ok: false, error: refused.message };
    const headers: Record<string, string> = { "content-type": "application/json" };
    let token: string | null = null;
    if (config.token) {
      const value = (this.env as unknown as Record<string, unknown>)[config.token.secret];
      if (typeof value !== "string" || value === "")
        return { ok: false, error: `the Worker secret ${config.token.secret} is not set` };
      token = value;
      headers.authorization = `Bearer ${token}`;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), config.timeout_ms);
    try {
      const response = await this.fetcher(config.url, {
        method: "POST",
        headers,
        body: JSON.stringify(request),
        signal: abort.signal,
        redirect: "manual",
      });
      // Counted while it streams: a planner's endless answer must not fill the object's memory.
      const read = await readTextUpTo(response.body, MAX_ANSWER_BYTES, (reader) => reader.cancel());
      const text = read.text;
      if (!response.ok)
        return {
          ok: false,
          // The answer may echo the request, the token included, and becomes the plan's error.
          error: `the planner answered ${response.status}: ${redactString((token ? text.split(token).join("[REDACTED]") : text).slice(0, 4096)).slice(0, 300)}`,
        };
      if (!read.complete)
        return { ok: false, error: `the planner's answer is over ${MAX_ANSWER_BYTES} bytes` };
      return readAnswer(text);
    } catch (error) {
      if (abort.signal.aborted)
        return { ok: false, error: `the planner gave no answer within ${config.timeout_ms} ms` };
      return {
        ok: false,
        error: `the planner could not be reached: ${error instanceof Error ? error.message : String(error)}`,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  private operator(): ExternalPddlPlanner | null {
    return operatorPlanner(this.env.AURAISON_PDDL_PLANNER);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

/** `{"plan": ["(a x)", ...]}` or `{"plan": "(a x)\n(b y)\n; cost = 2 (unit cost)"}`. */
function readAnswer(text: string): ExternalAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "the planner's answer is not JSON" };
  }
  const plan = (json as { plan?: unknown } | null)?.plan;
  if (typeof plan === "string")
    return {
      ok: true,
      actions: plan
        .split("\n")
        .map((line) => line.replace(/;.*$/, "").trim())
        .filter((line) => line !== ""),
    };
  if (Array.isArray(plan) && plan.every((a) => typeof a === "string"))
    return { ok: true, actions: plan };
  const error = (json as { error?: unknown } | null)?.error;
  return {
    ok: false,
    error:
      typeof error === "string"
        ? `the planner found no plan: ${error.slice(0, 500)}`
        : "the planner's answer has no \"plan\" (a list of actions, or a plan file's text)",
  };
}
