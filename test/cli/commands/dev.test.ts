import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../../cli/local-stack/processes";
import { until } from "../../edge/helpers/edge-process";
import { BIN } from "../../helpers/cli";

/** Live processes (zombies are not) as [pid, ppid, process group]. */
function processes(): Array<[number, number, number]> {
  const found: Array<[number, number, number]> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (state !== "Z") found.push([Number(entry), Number(ppid), Number(pgrp)]);
  }
  return found;
}

const inGroup = (pgid: number) => processes().filter(([, , g]) => g === pgid);

describe("auraison dev", () => {
  it("stops central when Ctrl-C comes while it starts, leaving no wrangler or workerd behind", async () => {
    const home = mkdtempSync(join(tmpdir(), "auraison-dev-ctrl-c-"));
    const port = await freePort();
    const dev = spawn(
      process.execPath,
      [BIN, "dev", "--port", String(port), "--no-edge", "--no-memory"],
      {
        env: { ...process.env, AURAISON_HOME: home, AURAISON_URL: "", AURAISON_KEY: "" },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let stderr = "";
    dev.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | string>((resolve) =>
      dev.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")),
    );
    let wrangler = 0;
    try {
      // wrangler runs in a group of its own, and has started more of it (esbuild, workerd).
      wrangler = (await until(() => processes().find(([, ppid]) => ppid === dev.pid), 60_000))[0];
      await until(() => inGroup(wrangler).length >= 2, 60_000);
      dev.kill("SIGINT");
      expect(await exited, stderr).toBe(130);
      expect(stderr).toContain("Ctrl-C again to stop at once");
      expect(stderr).toContain("stopped before the stack was up.");
      expect(inGroup(wrangler)).toEqual([]);
    } finally {
      dev.kill("SIGKILL");
      // What the old CLI left running must not outlive the test either.
      if (wrangler)
        try {
          process.kill(-wrangler, "SIGKILL");
        } catch {
          // Gone already.
        }
    }
  }, 120_000);
});
