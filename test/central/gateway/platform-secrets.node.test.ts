import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLATFORM_ENV } from "../../../central/env";
import { PROJECT_ROOT } from "../../../cli/wrangler";
import { type CentralDev, createTenant, startCentralDev } from "../../helpers/central-dev";
import { type FakeUpstream, startFakeUpstream } from "./fake-upstreams";

/**
 * No tenant reaches a platform secret through the gateway. The attack: a tenant admin names a
 * Worker secret as a provider key (`{"secret": "AURAISON_BOOTSTRAP_KEY"}`) with a base_url on
 * their own listener, then makes one chat call. Every binding and secret the Worker holds is
 * tried, in every key slot of every provider kind, against a central whose operator even
 * offers them all by mistake; none is accepted, and the listener never sees one.
 */

const VALUES = {
  AURAISON_KEY_SECRET: randomBytes(32).toString("base64url"),
  AURAISON_GATEWAY_KEK: randomBytes(32).toString("base64url"),
  LEGIT_PROVIDER_KEY: `sk-proj-${randomBytes(24).toString("base64url")}`,
};

let central: CentralDev;
let listener: FakeUpstream;

beforeAll(async () => {
  listener = await startFakeUpstream("openai");
  // The operator offers the bindings as provider keys by mistake (AURAISON_* names cannot even
  // be offered: such an offer is invalid as a whole, and nothing is offered).
  const offers = Object.fromEntries(
    [...PLATFORM_ENV.filter((n) => !n.startsWith("AURAISON_")), "LEGIT_PROVIDER_KEY"].map(
      (name) => [name, { hosts: ["127.0.0.1"] }],
    ),
  );
  central = await startCentralDev({
    logLevel: "warn",
    vars: {
      ...VALUES,
      AURAISON_PROVIDER_SECRETS: JSON.stringify(offers),
      AURAISON_PRIVATE_UPSTREAMS: "allow",
    },
  });
}, 180_000);
afterAll(async () => {
  await Promise.all([central?.stop(), listener?.close()]);
});

/** Every binding wrangler.toml declares (the secrets are in central/env.ts). */
function wranglerBindings(): string[] {
  const toml = readFileSync(`${PROJECT_ROOT}/wrangler.toml`, "utf8");
  return [...toml.matchAll(/^\s*(?:name|binding)\s*=\s*"([A-Z][A-Z0-9_]*)"/gm)].map((m) => m[1]!);
}

/** One provider of each kind that takes a key, naming `secret` in `slot`, aimed at the listener. */
function providers(secret: string) {
  const key = { secret };
  const base = listener.url;
  return [
    { path: "key", provider: { id: "p", kind: "openai", base_url: base, key, models: ["m"] } },
    { path: "key", provider: { id: "p", kind: "anthropic", base_url: base, key, models: ["m"] } },
    {
      path: "key",
      provider: { id: "p", kind: "openai-compatible", base_url: base, key, models: ["m"] },
    },
    ...(["key", "gateway_token"] as const).map((slot) => ({
      path: slot,
      provider: {
        id: "p",
        kind: "ai-gateway",
        account_id: "acct",
        gateway_id: "gw",
        upstream: "openai",
        base_url: base,
        key: slot === "key" ? key : { value: "tenant-own-key-0123" },
        ...(slot === "gateway_token" ? { gateway_token: key } : {}),
        models: ["m"],
      },
    })),
  ];
}

const put = (admin: string, config: unknown) =>
  fetch(`${central.url}/v1/gateway/config`, {
    method: "PUT",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify(config),
  });

const chat = (key: string) =>
  fetch(`${central.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "p/m", messages: [{ role: "user", content: "hi" }] }),
  });

describe("platform secrets through the gateway configuration", () => {
  it("the test knows every binding and secret the Worker has", () => {
    for (const name of wranglerBindings()) expect(PLATFORM_ENV).toContain(name);
    expect(wranglerBindings().length).toBeGreaterThanOrEqual(3);
  });

  it("refuses every platform binding and secret in every key slot, and the listener sees nothing", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "attacker");
    for (const name of PLATFORM_ENV) {
      for (const { path, provider } of providers(name)) {
        const response = await put(admin, { providers: [provider] });
        const body = (await response.json()) as {
          error: { code: string; issues?: { path: string; message: string }[] };
        };
        expect(response.status, `${name} as ${provider.kind} ${path}`).toBe(
          name.startsWith("AURAISON_") ? 400 : 422,
        );
        expect(body.error.issues?.[0]?.path).toMatch(
          /^providers\[0\]\.(key|gateway_token)(\.secret)?$/,
        );
        expect(body.error.issues?.[0]?.message).toMatch(/not a provider secret|AURAISON_/);
      }
      // Whatever is configured, a call never carries the secret anywhere.
      await (await chat(admin)).arrayBuffer();
    }
    const secrets = [central.bootstrapKey, ...Object.values(VALUES).slice(0, 2)];
    const seen = JSON.stringify(listener.calls);
    for (const secret of secrets) expect(seen).not.toContain(secret);
    expect(listener.calls).toEqual([]);
  });

  it("sends an offered provider secret to its own host only", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "honest");
    const elsewhere = listener.url.replace("127.0.0.1", "localhost");
    const refused = await put(admin, {
      providers: [
        {
          id: "p",
          kind: "openai",
          base_url: elsewhere,
          key: { secret: "LEGIT_PROVIDER_KEY" },
          models: ["m"],
        },
      ],
    });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("may be sent only to 127.0.0.1");
    const accepted = await put(admin, {
      providers: [
        {
          id: "p",
          kind: "openai",
          base_url: listener.url,
          key: { secret: "LEGIT_PROVIDER_KEY" },
          models: ["m"],
        },
      ],
    });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const answer = await chat(admin);
    expect(answer.status, await answer.clone().text()).toBe(200);
    expect(listener.calls.at(-1)?.headers.authorization).toBe(
      `Bearer ${VALUES.LEGIT_PROVIDER_KEY}`,
    );
  });

  it("refuses link-local and metadata base URLs even where private upstreams are allowed", async () => {
    const admin = await createTenant(central.url, central.bootstrapKey, "metadata");
    for (const base_url of ["http://169.254.169.254/latest", "http://[fd00:ec2::254]/v1"]) {
      const response = await put(admin, {
        providers: [{ id: "p", kind: "openai-compatible", base_url, models: ["m"] }],
      });
      expect(response.status, base_url).toBe(422);
      expect(
        ((await response.json()) as { error: { issues: { path: string }[] } }).error.issues[0]!
          .path,
      ).toBe("providers[0].base_url");
    }
  });
});
