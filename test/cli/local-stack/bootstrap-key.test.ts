import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveBootstrapKey, resolveGatewayKek } from "../../../cli/local-stack/bootstrap-key";

const temp = (name: string) => mkdtempSync(join(tmpdir(), `auraison-dev-${name}-`));

describe("the local bootstrap key", () => {
  it("is generated once, saved 0600 in the state dir, and reused", () => {
    const home = temp("home");
    const project = temp("project");
    const first = resolveBootstrapKey(home, {}, project);
    expect(first.source).toBe("generated");
    expect(first.key).toMatch(/^aur_boot_[A-Za-z0-9_-]{43}$/);
    const saved = join(home, "bootstrap.env");
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(readFileSync(saved, "utf8")).toBe(`AURAISON_BOOTSTRAP_KEY=${first.key}\n`);
    expect(first.envFiles).toEqual([saved]);
    const again = resolveBootstrapKey(home, {}, project);
    expect(again).toMatchObject({ source: "saved", key: first.key });
  });

  it("comes from the environment first, then from .dev.vars", () => {
    const home = temp("home");
    const project = temp("project");
    writeFileSync(
      join(project, ".dev.vars"),
      `OTHER=1\nAURAISON_BOOTSTRAP_KEY="aur_boot_${"d".repeat(43)}"\n`,
    );
    const fromDevVars = resolveBootstrapKey(home, {}, project);
    expect(fromDevVars).toEqual({
      key: `aur_boot_${"d".repeat(43)}`,
      source: "dev.vars",
      envFiles: [join(project, ".dev.vars")],
    });
    const fromEnv = resolveBootstrapKey(
      home,
      { AURAISON_BOOTSTRAP_KEY: `aur_boot_${"e".repeat(43)}` },
      project,
    );
    expect(fromEnv.source).toBe("env");
    expect(fromEnv.envFiles).toEqual([join(project, ".dev.vars"), join(home, "bootstrap.env")]);
    expect(() => resolveBootstrapKey(home, { AURAISON_BOOTSTRAP_KEY: "short" }, project)).toThrow(
      /shorter than 32/,
    );
  });

  it("has a key-encryption key beside it for tenant secrets, generated once and reused", () => {
    const home = temp("home");
    const project = temp("project");
    const kek = resolveGatewayKek(home, {}, project);
    expect(kek.source).toBe("generated");
    expect(kek.key.length).toBeGreaterThanOrEqual(32);
    const saved = join(home, "gateway-kek.env");
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(readFileSync(saved, "utf8")).toBe(`AURAISON_GATEWAY_KEK=${kek.key}\n`);
    expect(resolveGatewayKek(home, {}, project)).toMatchObject({ source: "saved", key: kek.key });
  });
});
