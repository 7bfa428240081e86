import { spawn } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { syntheticEvents } from "../../../bench/memory-synthetic";
import { BIN, runCli } from "../../helpers/cli";
import { tempDir } from "../fixture";

function startFollow(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, AURAISON_URL: "", AURAISON_KEY: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    batches: () => (stderr.match(/^batch: /gm) ?? []).length,
  };
}

async function until(check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

const lines = [...syntheticEvents({ events: 3_000, days: 1, seed: 8 })].map(
  ({ cursor: _c, ...e }) => JSON.stringify(e),
);

describe("local catalogs with two processes", () => {
  it("SQLite (the default): `memory sql` answers while `memory sync --follow` keeps writing", async () => {
    const outbox = tempDir();
    const segment = join(outbox, "000000000000.ndjson");
    writeFileSync(segment, `${lines.slice(0, 500).join("\n")}\n`);
    const env = { AURAISON_HOME: tempDir() };
    const follow = startFollow(
      ["memory", "sync", "--from-dir", outbox, "--follow", "--poll", "100ms"],
      env,
    );
    try {
      await until(() => follow.batches() >= 1);
      const seen: number[] = [];
      for (let chunk = 1; chunk < 6; chunk++) {
        appendFileSync(segment, `${lines.slice(chunk * 500, (chunk + 1) * 500).join("\n")}\n`);
        const read = await runCli(["memory", "sql", "SELECT count(*) AS n FROM events", "--json"], {
          env,
        });
        expect(read.code, read.stderr).toBe(0);
        seen.push((JSON.parse(read.stdout) as { n: number }[])[0]!.n);
      }
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen[0]).toBeGreaterThanOrEqual(500);
      await until(async () => {
        const read = await runCli(["memory", "sql", "SELECT count(*) AS n FROM events", "--csv"], {
          env,
        });
        return read.stdout === "n\r\n3000\r\n";
      });
      expect(follow.batches()).toBeGreaterThanOrEqual(2);
    } finally {
      follow.child.kill("SIGTERM");
    }
    expect(await follow.exited).toBe(0);
    expect(follow.output().stdout).toMatch(/^synced 3000 events from dir:/);
  }, 120_000);

  it("a DuckDB-file catalog admits one process: a reader is refused while the writer holds it", async () => {
    const outbox = tempDir();
    writeFileSync(join(outbox, "000000000000.ndjson"), `${lines.slice(0, 200).join("\n")}\n`);
    const home = tempDir();
    const catalog = ["--catalog", `duckdb:${join(home, "catalog.ducklake")}`, "--lake", home];
    const follow = startFollow(
      ["memory", ...catalog, "sync", "--from-dir", outbox, "--follow", "--poll", "100ms"],
      {},
    );
    try {
      await until(() => follow.batches() >= 1);
      const read = await runCli(["memory", ...catalog, "sql", "SELECT count(*) FROM events"]);
      expect(read.code).toBe(1);
      expect(read.stderr).toMatch(/lock/i);
    } finally {
      follow.child.kill("SIGTERM");
    }
    expect(await follow.exited).toBe(0);
    const after = await runCli([
      "memory",
      ...catalog,
      "sql",
      "SELECT count(*) AS n FROM events",
      "--csv",
    ]);
    expect(after.stdout).toBe("n\r\n200\r\n");
  }, 120_000);
});
