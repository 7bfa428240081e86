import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyUnavailable, resolveKey } from "../../../../central/gateway/keys/resolve";
import { openKey, sealKey } from "../../../../central/gateway/keys/sealed-keys";

const KEK = "kek-".repeat(10);

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
    } as typeof env;
    expect(await resolveKey({ secret: "OPENAI_API_KEY" }, base, "lab", "x")).toBe("sk-from-secret");
    expect(await resolveKey(undefined, base, "lab", "x")).toBeNull();
    await expect(resolveKey({ secret: "MISSING_KEY" }, base, "lab", "x")).rejects.toThrow(
      new KeyUnavailable("the Worker secret MISSING_KEY is not set"),
    );
    const sealed = await sealKey(KEK, "lab", "p#key", "sk-stored");
    expect(await resolveKey({ sealed, set_at: 0 }, base, "lab", "p#key")).toBe("sk-stored");
    await expect(
      resolveKey(
        { sealed, set_at: 0 },
        { ...base, AURAISON_GATEWAY_KEK: undefined },
        "lab",
        "p#key",
      ),
    ).rejects.toThrow(/not set/);
    await expect(
      resolveKey(
        { sealed, set_at: 0 },
        { ...base, AURAISON_GATEWAY_KEK: "y".repeat(40) },
        "lab",
        "p#key",
      ),
    ).rejects.toThrow(/does not open/);
  });
});
