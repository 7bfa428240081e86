import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { startCentralWorkerd } from "../../helpers/central-workerd";
import { platformSecrets } from "../../helpers/platform-secrets";

/**
 * A refused request leaves the platform whole: whatever answers it (the Worker, the tenant
 * object, the gateway) consumes its body first, so the next request on the connection, from
 * anyone, is served. Before the fix, the next POST after a tenant object refused an unread body
 * got 503 under wrangler dev, and the next GET could hang.
 */

const BODY = "x".repeat(200 * 1024);
const ROUNDS = 100;

interface Target {
  url: string;
  bootstrap: string;
  stop(): Promise<void>;
}

async function exercise(target: Target): Promise<void> {
  const victim = await createTenant(target.url, target.bootstrap, "victim");
  const attacker = await createTenant(target.url, target.bootstrap, "attacker");
  const viewer = await createKey(target.url, attacker, "viewer", "refused");
  const forged = `aur_admin_attacker_${"A".repeat(43)}`;
  const refusals: { method: string; path: string; key: string; type?: string; status: number }[] = [
    { method: "POST", path: "/v1/intents", key: forged, status: 401 },
    { method: "POST", path: "/v1/intents", key: viewer, status: 403 },
    { method: "POST", path: "/v1/keys", key: attacker, type: "text/plain", status: 415 },
    { method: "POST", path: "/v1/nowhere", key: attacker, status: 404 },
    { method: "DELETE", path: "/v1/runs", key: attacker, status: 405 },
    { method: "POST", path: "/v1/intents", key: "not-a-key", status: 401 },
    { method: "POST", path: "/v1/intents", key: target.bootstrap, status: 403 },
    { method: "POST", path: "/v1/chat/completions", key: forged, status: 401 },
    { method: "PUT", path: "/v1/settings", key: viewer, status: 403 },
  ];
  const failures: string[] = [];
  for (let i = 0; i < ROUNDS && failures.length < 5; i++) {
    const refusal = refusals[i % refusals.length]!;
    const refused = await fetch(`${target.url}${refusal.path}`, {
      method: refusal.method,
      headers: {
        authorization: `Bearer ${refusal.key}`,
        "content-type": refusal.type ?? "application/json",
      },
      body: BODY,
      signal: AbortSignal.timeout(15_000),
    });
    await refused.arrayBuffer();
    if (refused.status !== refusal.status)
      failures.push(`${refusal.method} ${refusal.path}: ${refused.status}, not ${refusal.status}`);
    const read = i % 2 === 1;
    const started = Date.now();
    try {
      const served = await fetch(`${target.url}${read ? "/v1/runs?limit=5" : "/v1/intents"}`, {
        method: read ? "GET" : "POST",
        headers: { authorization: `Bearer ${victim}`, "content-type": "application/json" },
        ...(read ? {} : { body: JSON.stringify({ params: { n: i }, targets: [{ app: "none" }] }) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await served.text();
      const expected = read ? 200 : 201;
      if (served.status !== expected)
        failures.push(
          `round ${i}, after ${refusal.status}: ${served.status} ${text.slice(0, 200)}`,
        );
    } catch (error) {
      failures.push(
        `round ${i}, after ${refusal.status}: ${String(error)} after ${Date.now() - started} ms`,
      );
    }
  }
  expect(failures).toEqual([]);
}

describe("refused requests with bodies, interleaved with another tenant's requests", () => {
  describe("under wrangler dev", () => {
    let central: CentralDev;
    beforeAll(async () => {
      central = await startCentralDev({ logLevel: "warn" });
    }, 180_000);
    afterAll(() => central?.stop());

    it(`${ROUNDS} refusals of 200 KB bodies cost the other tenant nothing`, async () => {
      await exercise({ url: central.url, bootstrap: central.bootstrapKey, stop: central.stop });
    }, 240_000);
  });

  describe("in workerd without the dev proxy", () => {
    let central: Target;
    beforeAll(async () => {
      const secrets = platformSecrets();
      const started = await startCentralWorkerd(secrets);
      central = { ...started, bootstrap: secrets.AURAISON_BOOTSTRAP_KEY };
    }, 180_000);
    afterAll(() => central?.stop());

    it(`${ROUNDS} refusals of 200 KB bodies cost the other tenant nothing`, async () => {
      await exercise(central);
    }, 240_000);
  });
});
