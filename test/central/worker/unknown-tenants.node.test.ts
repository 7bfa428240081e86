import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type CentralDev, createTenant, startCentralDev } from "../../helpers/central-dev";

/**
 * A key naming a tenant that does not exist costs no storage: the Worker checks the key's tag
 * before it routes anything to a tenant's Durable Object, so forged keys on every route (the
 * platform API, the gateway, the agent WebSocket) never create an object or its SQLite database.
 */

let central: CentralDev;

beforeAll(async () => {
  central = await startCentralDev({ logLevel: "warn" });
}, 180_000);
afterAll(() => central?.stop());

/** The status a WebSocket upgrade to the agent endpoint is answered with. */
function upgradeStatus(key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${central.url.replace("http", "ws")}/v1/agents/connect`, {
      headers: { authorization: `Bearer ${key}` },
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("error", (error) => {
      if (!/Unexpected server response/.test(String(error))) reject(error);
    });
  });
}

/** The Durable Object databases wrangler dev keeps for the tenant class, with their total size. */
function objectFiles(): { files: string[]; bytes: number } {
  const dir = join(central.persistDir, "v3", "do", "auraison-central-TenantAgent");
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".sqlite"));
  } catch {}
  const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  return { files, bytes };
}

describe("keys of tenants that do not exist", () => {
  it("20 forged keys on every kind of route create no Durable Object and no database", async () => {
    const before = objectFiles();
    const forged = (i: number) => `aur_admin_ghost-${i}_${"Q".repeat(43)}`;
    for (let i = 0; i < 20; i++) {
      const headers = { authorization: `Bearer ${forged(i)}`, "content-type": "application/json" };
      const answers = await Promise.all([
        fetch(`${central.url}/v1/runs`, { headers }),
        fetch(`${central.url}/v1/intents`, {
          method: "POST",
          headers,
          body: JSON.stringify({ params: {}, targets: [{ app: "x" }] }),
        }),
        fetch(`${central.url}/v1/chat/completions`, {
          method: "POST",
          headers,
          body: JSON.stringify({ model: "auto", messages: [{ role: "user", content: "hi" }] }),
        }),
        fetch(`${central.url}/v1/models`, { headers }),
      ]);
      for (const answer of answers) {
        await answer.arrayBuffer();
        expect(answer.status, answer.url).toBe(401);
      }
      expect(await upgradeStatus(forged(i))).toBe(401);
    }
    expect(objectFiles()).toEqual(before);

    // The count is real: creating one tenant adds exactly one database.
    await createTenant(central.url, central.bootstrapKey, "real-one");
    expect(objectFiles().files.length).toBe(before.files.length + 1);
  }, 120_000);
});
