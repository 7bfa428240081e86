import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveBootstrapKey } from "../../../cli/commands/dev";
import { freePort } from "../../helpers/central-dev";
import { BIN } from "../../helpers/cli";

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
      envFiles: [],
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
});

describe("auraison dev", () => {
  let child: ChildProcess | null = null;
  afterEach(async () => {
    if (child?.pid && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      process.kill(-child.pid, "SIGKILL");
      await exited;
    }
  });

  async function start(
    home: string,
    port: number,
  ): Promise<{ stderr: () => string; proc: ChildProcess }> {
    let stderr = "";
    const proc = spawn(process.execPath, [BIN, "dev", "--port", String(port)], {
      env: {
        ...process.env,
        AURAISON_HOME: home,
        AURAISON_BOOTSTRAP_KEY: "",
        WRANGLER_SEND_METRICS: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    proc.stderr!.on("data", (d) => {
      stderr += d;
    });
    proc.stdout!.resume();
    child = proc;
    const until = Date.now() + 90_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
      } catch {}
      if (proc.exitCode !== null || Date.now() > until)
        throw new Error(`auraison dev did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return { stderr: () => stderr, proc };
  }

  it("runs central with state in the state dir, prints a generated bootstrap key once, and keeps it", async () => {
    const home = temp("home");
    const port = await freePort();
    const first = await start(home, port);
    const key = /\n\s+(aur_boot_[A-Za-z0-9_-]{43})\n/.exec(first.stderr())?.[1];
    expect(key, first.stderr()).toBeDefined();
    const create = () =>
      fetch(`http://127.0.0.1:${port}/v1/tenants`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ tenant: "local" }),
      });
    expect((await create()).status).toBe(201);
    const exited = new Promise<number | null>((resolve) => first.proc.once("exit", resolve));
    process.kill(first.proc.pid!, "SIGINT");
    expect(await exited).toBe(0);

    const second = await start(home, port);
    expect(second.stderr()).toContain("using the platform bootstrap key from");
    expect(second.stderr()).not.toContain(key);
    expect((await create()).status).toBe(409);
  }, 200_000);
});
