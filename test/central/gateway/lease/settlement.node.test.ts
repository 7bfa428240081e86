import { Agent, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream } from "../../../../bench/gateway-mock-upstream";
import { createKey, gatewayTenant } from "../../../helpers/central-dev";
import { startCentralWorkerd } from "../../../helpers/central-workerd";
import { platformSecrets } from "../../../helpers/platform-secrets";

/**
 * Batched settlement in the real runtime (central's bundle in workerd): calls close together
 * share a settlement RPC, which outlives the answer of the request that opened the batch, and
 * each call is settled exactly once. workerd cancels what a request awaits of a promise another
 * request made once that other request has answered ("cross-request promise resolution"), so
 * no request may wait on a batch's promise it did not make (central/gateway/lease/
 * worker-leases.ts says how); this test checks the outcome, every call answered and settled
 * once under concurrent waves, not the runtime's warning, which Miniflare does not pass on.
 */
let central: { url: string; stop(): Promise<void> };
let provider: { url: string; close(): Promise<void> };
const secrets = platformSecrets();

beforeAll(async () => {
  [central, provider] = await Promise.all([
    startCentralWorkerd({ ...secrets, AURAISON_PRIVATE_UPSTREAMS: "allow" }),
    // An OpenAI-style provider answering in a millisecond: calls a few milliseconds apart.
    startMockUpstream({ firstTokenMs: 1, tokenMs: 0, tokens: 1 }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([central?.stop(), provider?.close()]);
});

async function modelCallIds(admin: string): Promise<string[]> {
  const ids: string[] = [];
  for (let after = 0; ; ) {
    const response = await fetch(
      `${central.url}/v1/events?kind=model_call&limit=1000&after=${after}`,
      { headers: { authorization: `Bearer ${admin}` } },
    );
    const page = (await response.json()) as {
      events: { payload: { call_id: string } }[];
      next_cursor: number;
    };
    ids.push(...page.events.map((e) => e.payload.call_id));
    if (page.events.length === 0) return ids;
    after = page.next_cursor;
  }
}

describe("settlement batches", () => {
  it("answers and settles every call of concurrent waves once", async () => {
    const { admin } = await gatewayTenant(
      { url: central.url, bootstrapKey: secrets.AURAISON_BOOTSTRAP_KEY },
      {
        providers: [
          { id: "oa", kind: "openai-compatible", base_url: `${provider.url}/v1`, models: ["m"] },
        ],
      },
    );
    const operator = await createKey(central.url, admin, "operator", "caller");
    const calls = 2000;
    // Eight callers, each on a kept-alive connection, as an edge host's agents call.
    const connections = new Agent({ connections: 16 });
    let started = 0;
    const callIds: string[] = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (started++ < calls) {
          const response = await request(`${central.url}/v1/chat/completions`, {
            method: "POST",
            dispatcher: connections,
            headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
            body: JSON.stringify({
              model: "m",
              max_tokens: 64,
              messages: [{ role: "user", content: "hi" }],
            }),
            signal: AbortSignal.timeout(15_000),
          });
          expect(response.statusCode, await response.body.text()).toBe(200);
          callIds.push(String(response.headers["x-auraison-call-id"]));
        }
      }),
    );
    await connections.close();
    const until = Date.now() + 10_000;
    let logged = await modelCallIds(admin);
    while (logged.length < calls && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logged = await modelCallIds(admin);
    }
    expect(logged.sort()).toEqual(callIds.sort());
  }, 120_000);
});
