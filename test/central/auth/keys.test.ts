import { describe, expect, it } from "vitest";
import { digestsEqual, mintKey, parseKey, sha256, verifyKey } from "../../../central/auth/keys";
import { API_KEY_PATTERN } from "../../../contract";

const SIGNING = "s".repeat(40);

describe("key format", () => {
  it("mints aur_<role>_<tenant>_<43 base64url chars> keys that parse back to their tenant", async () => {
    const keys = new Set<string>();
    for (const role of ["admin", "operator", "viewer", "agent"] as const) {
      const key = await mintKey(role, "acme-lab", SIGNING);
      expect(key).toMatch(API_KEY_PATTERN);
      expect(parseKey(key)?.tenant).toBe("acme-lab");
      expect((await verifyKey(key, SIGNING))?.tenant).toBe("acme-lab");
      keys.add(key);
    }
    expect(keys.size).toBe(4);
    expect(parseKey(`aur_root_acme_${"a".repeat(43)}`)).toBeNull();
    expect(parseKey(`aur_admin_acme_${"a".repeat(42)}`)).toBeNull();
  });

  it("verifies only keys minted under the same secret, for the tenant and role they name", async () => {
    const key = await mintKey("admin", "acme-lab", SIGNING);
    const secret = key.slice(-43);
    expect(await verifyKey(key, `${SIGNING}x`)).toBeNull();
    expect(await verifyKey(`aur_admin_other-lab_${secret}`, SIGNING)).toBeNull();
    expect(await verifyKey(`aur_view_acme-lab_${secret}`, SIGNING)).toBeNull();
    expect(await verifyKey(`aur_admin_acme-lab_${"A".repeat(43)}`, SIGNING)).toBeNull();
    const flipped = `${secret.slice(0, 10)}${secret[10] === "A" ? "B" : "A"}${secret.slice(11)}`;
    expect(await verifyKey(`aur_admin_acme-lab_${flipped}`, SIGNING)).toBeNull();
  });

  it("keeps a key it verified verified, and only under the secret it was verified with", async () => {
    const key = await mintKey("operator", "acme-lab", SIGNING);
    const first = await verifyKey(key, SIGNING);
    expect(first?.tenant).toBe("acme-lab");
    // The second check answers from the isolate's cache: the same parts, still bound to SIGNING.
    expect(await verifyKey(key, SIGNING)).toEqual(first);
    expect(await verifyKey(key, `${SIGNING}x`)).toBeNull();
    // A changed character of the tag (not the last one, whose low bits are padding).
    const at = key.length - 5;
    const forged = `${key.slice(0, at)}${key[at] === "A" ? "B" : "A"}${key.slice(at + 1)}`;
    expect(await verifyKey(forged, SIGNING)).toBeNull();
    expect(await verifyKey(key.replace("_acme-lab_", "_other-lab_"), SIGNING)).toBeNull();
  });

  it("compares digests in constant time and by value", async () => {
    const a = await sha256("one");
    expect(digestsEqual(a, await sha256("one"))).toBe(true);
    expect(digestsEqual(a, await sha256("two"))).toBe(false);
    expect(digestsEqual(a, a.slice(0, 16))).toBe(false);
  });
});
