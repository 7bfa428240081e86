import { describe, expect, it } from "vitest";
import { digestsEqual, mintKey, parseKey, sha256 } from "../../../central/auth/keys";
import { API_KEY_PATTERN } from "../../../contract";

describe("key format", () => {
  it("mints aur_<role>_<tenant>_<43 base64url chars> keys that parse back to their tenant", () => {
    const keys = new Set<string>();
    for (const role of ["admin", "operator", "viewer", "agent"] as const) {
      const key = mintKey(role, "acme-lab");
      expect(key).toMatch(API_KEY_PATTERN);
      expect(parseKey(key)?.tenant).toBe("acme-lab");
      keys.add(key);
    }
    expect(keys.size).toBe(4);
    expect(parseKey(`aur_root_acme_${"a".repeat(43)}`)).toBeNull();
    expect(parseKey(`aur_admin_acme_${"a".repeat(42)}`)).toBeNull();
  });

  it("compares digests in constant time and by value", async () => {
    const a = await sha256("one");
    expect(digestsEqual(a, await sha256("one"))).toBe(true);
    expect(digestsEqual(a, await sha256("two"))).toBe(false);
    expect(digestsEqual(a, a.slice(0, 16))).toBe(false);
  });
});
