import { emptyUsage, HEADERS, PATHS } from "../../../contract";
import type { CentralCallCosts } from "./call-costs";
import type { ModelCall } from "./model";

/** How the tenant object reaches its own gateway: the Worker's handler, in this isolate. */
export type GatewayFetch = (request: Request) => Promise<Response>;

/**
 * Central's planning calls go through the tenant's own gateway, as any caller's do (admission,
 * routing, budgets, cache, a `model_call` event), with central's own key and intent type `plan`.
 * The answer's cost is the gateway's price for the call, from its `model_call` event.
 */
export function gatewayCall(
  fetchGateway: GatewayFetch,
  key: () => Promise<string>,
  costs: CentralCallCosts,
): ModelCall {
  return async (body) => {
    const response = await fetchGateway(
      new Request(`https://central${PATHS.chatCompletions}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${await key()}`,
          "content-type": "application/json",
          [HEADERS.intentType]: "plan",
        },
        body: JSON.stringify(body),
      }),
    );
    const text = await response.text();
    let json: {
      choices?: { message?: { content?: unknown } }[];
      usage?: { prompt_tokens?: number; completion_tokens?: number };
      error?: { message?: string };
    };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`the gateway answered ${response.status} with no JSON`);
    }
    if (!response.ok)
      throw new Error(`the gateway answered ${response.status}: ${json.error?.message ?? text}`);
    const content = json.choices?.[0]?.message?.content;
    const callId = response.headers.get(HEADERS.callId);
    return {
      text: typeof content === "string" ? content : "",
      usage: {
        ...emptyUsage(),
        tokens_in: json.usage?.prompt_tokens ?? 0,
        tokens_out: json.usage?.completion_tokens ?? 0,
        cost_usd: callId ? await costs.cost(callId) : null,
        model_calls: 1,
      },
    };
  };
}
