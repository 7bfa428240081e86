import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureComponentKey } from "../../../cli/local-stack/tenant";
import { CentralClient } from "../../../contract";
import { type FakeCentral, startFakeCentral } from "../../helpers/fake-central";

const NEW_KEY = `aur_view_local_${"n".repeat(43)}`;
let central: FakeCentral | undefined;
afterEach(async () => {
  await central?.down();
});

describe("a local-stack component's key", () => {
  it("is made anew when its saved file is cut short, not a crash", async () => {
    central = await startFakeCentral((_req, res) => {
      const now = new Date().toISOString();
      res.writeHead(201, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "key_new",
          tenant: "local",
          role: "viewer",
          name: "local stack: memory",
          app: null,
          prefix: NEW_KEY.slice(0, 16),
          created_at: now,
          created_by: null,
          last_used_at: null,
          revoked_at: null,
          key: NEW_KEY,
        }),
      );
    });
    const home = mkdtempSync(join(tmpdir(), "auraison-component-key-"));
    mkdirSync(join(home, "keys"));
    const file = join(home, "keys", "memory.json");
    writeFileSync(file, '{"id":"key_old","key":"aur_vi');
    const admin = new CentralClient({ url: central.url, key: "admin" });
    expect(await ensureComponentKey(admin, home, "memory", "viewer")).toBe(NEW_KEY);
    expect(central.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /v1/keys"]);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual({ id: "key_new", key: NEW_KEY });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
