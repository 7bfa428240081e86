import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PLATFORM_ENV } from "../../../../central/env";
import { PLATFORM_ENV_IS_COMPLETE } from "../../../../central/env-complete";
import { KeyUnavailable, resolveKey } from "../../../../central/gateway/keys/resolve";
import { openKey, sealKey } from "../../../../central/gateway/keys/sealed-keys";

const KEK = "kek-".repeat(10);
const OFFERS = {
  OPENAI_API_KEY: { hosts: ["api.openai.com"] },
  MISSING_KEY: { hosts: ["api.openai.com"] },
  LAB_ONLY: { hosts: ["gpu.lab"], tenants: ["lab"] },
};

describe("provider keys at rest", () => {
  it("seals with AES-GCM (fresh IV each time) and opens only for the same tenant, slot and KEK", async () => {
    const secret = "sk-proj-abcdefghijklmnopqrstuvwxyz0123";
    const a = await sealKey(KEK, "lab", "openai#key", secret);
    const b = await sealKey(KEK, "lab", "openai#key", secret);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret);
    expect(atob(a).includes(secret)).toBe(false);
    expect(await openKey(KEK, "lab", "openai#key", a)).toBe(secret);
    await expect(openKey(KEK, "other", "openai#key", b)).rejects.toThrow();
    await expect(openKey(KEK, "lab", "anthropic#key", b)).rejects.toThrow();
    await expect(openKey(`${KEK}x`, "lab", "openai#key", b)).rejects.toThrow();
  });

  it("resolves Worker secrets by name and stored keys with the KEK, or says why not", async () => {
    const base = {
      ...env,
      OPENAI_API_KEY: "sk-from-secret",
      AURAISON_GATEWAY_KEK: KEK,
      AURAISON_PROVIDER_SECRETS: JSON.stringify(OFFERS),
    } as typeof env;
    const host = "api.openai.com";
    expect(await resolveKey({ secret: "OPENAI_API_KEY" }, base, "lab", "x", host)).toBe(
      "sk-from-secret",
    );
    expect(await resolveKey(undefined, base, "lab", "x", host)).toBeNull();
    await expect(resolveKey({ secret: "MISSING_KEY" }, base, "lab", "x", host)).rejects.toThrow(
      new KeyUnavailable("the Worker secret MISSING_KEY is not set"),
    );
    const sealed = await sealKey(KEK, "lab", "p#key", "sk-stored");
    expect(await resolveKey({ sealed, set_at: 0 }, base, "lab", "p#key", "x.example")).toBe(
      "sk-stored",
    );
    await expect(
      resolveKey(
        { sealed, set_at: 0 },
        { ...base, AURAISON_GATEWAY_KEK: undefined },
        "lab",
        "p#key",
        host,
      ),
    ).rejects.toThrow(/not set/);
    await expect(
      resolveKey(
        { sealed, set_at: 0 },
        { ...base, AURAISON_GATEWAY_KEK: "y".repeat(40) },
        "lab",
        "p#key",
        host,
      ),
    ).rejects.toThrow(/does not open/);
  });

  it("reads a Worker secret only when the operator offers it to this tenant for this host", async () => {
    const base = { ...env, OPENAI_API_KEY: "sk-from-secret", LAB_ONLY: "sk-lab" } as typeof env;
    const offered = { ...base, AURAISON_PROVIDER_SECRETS: JSON.stringify(OFFERS) };
    // Not offered at all: the secret exists, and is still out of reach.
    await expect(
      resolveKey({ secret: "OPENAI_API_KEY" }, base, "lab", "x", "api.openai.com"),
    ).rejects.toThrow(/not a provider secret this platform offers to tenant lab/);
    // Offered, but to another host than the provider's.
    await expect(
      resolveKey({ secret: "OPENAI_API_KEY" }, offered, "lab", "x", "evil.example"),
    ).rejects.toThrow(/only to api.openai.com, not to evil.example/);
    // Offered to other tenants only.
    expect(await resolveKey({ secret: "LAB_ONLY" }, offered, "lab", "x", "gpu.lab")).toBe("sk-lab");
    await expect(
      resolveKey({ secret: "LAB_ONLY" }, offered, "other", "x", "gpu.lab"),
    ).rejects.toThrow(/not a provider secret this platform offers to tenant other/);
  });

  it("never reads a platform binding or secret, even one an operator offers by mistake", async () => {
    expect(PLATFORM_ENV_IS_COMPLETE).toBe(true);
    const values: Record<string, string> = {
      AURAISON_BOOTSTRAP_KEY: "aur_boot_platform-bootstrap-key-0123456789",
      AURAISON_KEY_SECRET: "platform-key-signing-secret-0123456789",
      AURAISON_GATEWAY_KEK: KEK,
      AURAISON_PROVIDER_SECRETS: "",
      AURAISON_PRIVATE_UPSTREAMS: "allow",
    };
    const mistaken = Object.fromEntries(
      PLATFORM_ENV.map((name) => [name, { hosts: ["127.0.0.1"] }]),
    );
    const platform = {
      ...env,
      ...values,
      AURAISON_PROVIDER_SECRETS: JSON.stringify(mistaken),
    } as typeof env;
    for (const name of PLATFORM_ENV) {
      await expect(
        resolveKey({ secret: name }, platform, "lab", "x", "127.0.0.1"),
        name,
      ).rejects.toThrow(new RegExp(`${name} is not a provider secret`));
    }
  });
});
