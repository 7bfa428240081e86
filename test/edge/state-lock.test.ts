import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { StateLock, StateLockedError } from "../../edge/state-lock";

const FIXTURE = fileURLToPath(new URL("./fixtures/state-lock.ts", import.meta.url));

/**
 * A process that takes `dir`'s lock at `at` and holds it for `hold` ms, keeping no reference to
 * it and collecting garbage at once; its first line.
 */
function contender(
  dir: string,
  at: number,
  hold: number,
): { child: ChildProcess; said: Promise<string> } {
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", FIXTURE, dir, String(at), String(hold)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const said = new Promise<string>((resolve) => {
    let out = "";
    child.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    child.on("exit", () => resolve(out.trim()));
  });
  return { child, said };
}

const stateDir = () => mkdtempSync(join(tmpdir(), "state-lock-"));

describe("the state lock", () => {
  it("is held by one of many processes taking it at once, fresh or left by a dead one", async () => {
    for (const left of [null, "2147483000\n", "2147483000\nheld with <file>.db\n"]) {
      for (let round = 0; round < 3; round++) {
        const dir = stateDir();
        if (left) writeFileSync(join(dir, "edge.lock"), left);
        const at = Date.now() + 2_000;
        const all = Array.from({ length: 5 }, () => contender(dir, at, 1_500));
        const said = await Promise.all(all.map((c) => c.said));
        expect(
          said.filter((s) => s === "acquired"),
          `${left}: ${said.join(" | ")}`,
        ).toHaveLength(1);
        expect(said.filter((s) => s.startsWith("refused: another edge agent"))).toHaveLength(4);
        for (const { child } of all) child.kill("SIGKILL");
      }
    }
  }, 120_000);

  it("is free once its holder is killed, and names a live holder to the next", async () => {
    const dir = stateDir();
    const holder = contender(dir, 0, 60_000);
    expect(await holder.said).toBe("acquired");
    expect(() => StateLock.acquire(dir)).toThrow(
      new StateLockedError(dir, holder.child.pid!).message,
    );
    holder.child.kill("SIGKILL");
    await new Promise((resolve) => holder.child.once("exit", resolve));
    const lock = StateLock.acquire(dir);
    expect(() => StateLock.acquire(dir)).toThrow(StateLockedError);
    lock.release();
    StateLock.acquire(dir).release();
  });

  it("waits out a moment's shared lock (two starting at once) instead of refusing", async () => {
    const dir = stateDir();
    StateLock.acquire(dir).release();
    // A reader's shared lock, as a contender's first step holds one, let go 100 ms later.
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `const db = new (require("node:sqlite").DatabaseSync)(process.argv[1]);
         db.exec("BEGIN"); db.prepare("SELECT count(*) FROM sqlite_master").get();
         console.log("shared"); setTimeout(() => db.exec("COMMIT"), 100);`,
        join(dir, "edge.lock.db"),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise((resolve) => reader.stdout!.once("data", resolve));
    const lock = StateLock.acquire(dir);
    lock.release();
    await new Promise((resolve) => reader.once("exit", resolve));
  });

  it("refuses a live pid an agent of an older version wrote, which holds no kernel lock", async () => {
    const dir = stateDir();
    const older = spawn("sleep", ["60"]);
    try {
      writeFileSync(join(dir, "edge.lock"), `${older.pid}\n`);
      expect(() => StateLock.acquire(dir)).toThrow(
        `another edge agent (pid ${older.pid}) is using`,
      );
    } finally {
      older.kill("SIGKILL");
    }
  });
});
