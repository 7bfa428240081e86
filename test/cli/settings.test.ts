import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CliError } from "../../cli/errors";
import { readLocalSettings, resolveConnection, writeLocalSettings } from "../../cli/settings";

function homeWithStack(): string {
  const home = mkdtempSync(join(tmpdir(), "auraison-settings-"));
  writeLocalSettings(
    {
      url: "http://127.0.0.1:8787",
      tenant: "local",
      admin_key: "state-key",
      admin_key_id: "k1",
      written_at: new Date().toISOString(),
    },
    home,
  );
  return home;
}

describe("resolveConnection", () => {
  it("prefers flags, then environment, then the local stack's saved settings", () => {
    const home = homeWithStack();
    const env = { AURAISON_URL: "http://env:1", AURAISON_KEY: "env-key" };
    expect(
      resolveConnection({ central: "http://flag:1", key: "flag-key" }, env, home),
    ).toMatchObject({
      url: "http://flag:1",
      key: "flag-key",
      source: { url: "flag", key: "flag" },
    });
    expect(resolveConnection({}, env, home)).toMatchObject({
      url: "http://env:1",
      key: "env-key",
      source: { url: "env", key: "env" },
    });
    expect(resolveConnection({}, {}, home)).toMatchObject({
      url: "http://127.0.0.1:8787",
      key: "state-key",
      source: { url: "state", key: "state" },
    });
    expect(resolveConnection({ key: "flag-key" }, {}, home).source).toEqual({
      url: "state",
      key: "flag",
    });
  });

  it("reads a key from --key-file (its first line), ahead of the environment, never with --key too", () => {
    const home = homeWithStack();
    const file = join(home, "agent.key");
    writeFileSync(file, "file-key\n", { mode: 0o600 });
    const env = { AURAISON_URL: "http://env:1", AURAISON_KEY: "env-key" };
    expect(resolveConnection({ keyFile: file }, env, home)).toMatchObject({
      key: "file-key",
      source: { key: "flag" },
    });
    expect(() => resolveConnection({ key: "k", keyFile: file }, env, home)).toThrow(/not both/);
    expect(() => resolveConnection({ keyFile: join(home, "missing") }, env, home)).toThrow(
      /--key-file .*missing/,
    );
    writeFileSync(file, "\n");
    expect(() => resolveConnection({ keyFile: file }, env, home)).toThrow(/is empty/);
  });

  it("fails with a usage error naming all three ways when nothing is set", () => {
    const empty = mkdtempSync(join(tmpdir(), "auraison-settings-"));
    expect(() => resolveConnection({}, {}, empty)).toThrow(CliError);
    expect(() => resolveConnection({}, {}, empty)).toThrow(/--central.*AURAISON_URL.*npm start/);
    expect(() => resolveConnection({ central: "http://x" }, {}, empty)).toThrow(
      /--key.*AURAISON_KEY/,
    );
  });

  it("rejects a malformed URL and says where it came from", () => {
    const empty = mkdtempSync(join(tmpdir(), "auraison-settings-"));
    expect(() =>
      resolveConnection({}, { AURAISON_URL: "not a url", AURAISON_KEY: "k" }, empty),
    ).toThrow(/from env/);
  });

  it("saves the local stack's settings readable only by the owner", async () => {
    const home = homeWithStack();
    const { statSync } = await import("node:fs");
    expect(statSync(join(home, "local.json")).mode & 0o777).toBe(0o600);
    expect(readLocalSettings(home)?.admin_key).toBe("state-key");
  });

  it("keeps the saved settings whole when a new write fails part way (a full disk)", () => {
    const home = homeWithStack();
    const fixture = fileURLToPath(new URL("fixtures/write-local-settings.ts", import.meta.url));
    // 6 KiB of the 20 KiB settings fit under the limit: an in-place write left local.json cut.
    const child = spawnSync(
      "bash",
      ["-c", 'ulimit -f 6 && exec "$0" --import tsx "$1" "$2"', process.execPath, fixture, home],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(child.stdout.trim(), child.stderr).toBe(JSON.stringify({ result: "EFBIG" }));
    expect(readLocalSettings(home)?.admin_key).toBe("state-key");
    expect(readdirSync(home)).toEqual(["local.json"]);
  });
});
