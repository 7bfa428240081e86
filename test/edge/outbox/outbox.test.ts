import { spawn } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AgentEvent, uuidv7 } from "../../../contract";
import { Outbox } from "../../../edge/outbox/outbox";
import { messageEvent } from "../helpers/events";
import { writeUnderFileSizeLimit } from "../helpers/file-size-limit";

const fresh = () => join(mkdtempSync(join(tmpdir(), "outbox-")), "outbox");

describe("Outbox", () => {
  it("appends durably in order and reads back every event", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    const positions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => outbox.append(messageEvent(run, i))),
    );
    expect(positions).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(outbox.size).toBe(50);
    const read = await outbox.read(0, 100);
    expect(read.events.map((e) => e.seq)).toEqual(positions);
    expect(read.next).toBe(50);
    await outbox.close();

    const lines = readFileSync(join(dir, "000000000000.ndjson"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(50);
    for (const line of lines) expect(AgentEvent.safeParse(JSON.parse(line)).success).toBe(true);
  });

  it("rotates segments named by the position of their first line", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir, { segmentBytes: 2_000 });
    const run = uuidv7();
    for (let i = 0; i < 40; i++) await outbox.append(messageEvent(run, i));
    await outbox.close();

    const names = readdirSync(dir)
      .filter((n) => n.endsWith(".ndjson"))
      .sort();
    expect(names.length).toBeGreaterThan(3);
    let position = 0;
    for (const name of names) {
      expect(name).toBe(`${String(position).padStart(12, "0")}.ndjson`);
      const lines = readFileSync(join(dir, name), "utf8").trimEnd().split("\n");
      expect(JSON.parse(lines[0]!).seq).toBe(position);
      position += lines.length;
    }
    expect(position).toBe(40);

    const reopened = await Outbox.open(dir, { segmentBytes: 2_000 });
    expect(reopened.size).toBe(40);
    const middle = await reopened.read(17, 10);
    expect(middle.events.map((e) => e.seq)).toEqual([17, 18, 19, 20, 21, 22, 23, 24, 25, 26]);
    await reopened.append(messageEvent(run, 40));
    expect((await reopened.read(38, 10)).events.map((e) => e.seq)).toEqual([38, 39, 40]);
    await reopened.close();
  });

  it("ignores and cuts off a torn last line, then appends on a line boundary", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    for (let i = 0; i < 3; i++) await outbox.append(messageEvent(run, i));
    await outbox.close();
    const segment = join(dir, "000000000000.ndjson");
    appendFileSync(segment, JSON.stringify(messageEvent(run, 3)).slice(0, 40));

    const reopened = await Outbox.open(dir);
    expect(reopened.size).toBe(3);
    await reopened.append(messageEvent(run, 3));
    await reopened.close();
    const lines = readFileSync(segment, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual([0, 1, 2, 3]);
  });

  it("remembers how far central acknowledged across a reopen", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    for (let i = 0; i < 10; i++) await outbox.append(messageEvent(run, i));
    await outbox.markDelivered(6);
    expect(outbox.pending).toBe(4);
    await outbox.close();
    const reopened = await Outbox.open(dir);
    expect(reopened.delivered).toBe(6);
    expect(reopened.pending).toBe(4);
    expect((await reopened.read(reopened.delivered, 100)).events.map((e) => e.seq)).toEqual([
      6, 7, 8, 9,
    ]);
    await reopened.close();
  });

  it("keeps saving the delivered mark after one write of it failed", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    for (let i = 0; i < 10; i++) await outbox.append(messageEvent(run, i));
    await outbox.markDelivered(3);
    mkdirSync(`${dir}.acked.tmp`); // the mark's write fails (EISDIR, as ENOSPC or EIO would)
    await expect(outbox.markDelivered(6)).rejects.toThrow();
    rmdirSync(`${dir}.acked.tmp`); // and the disk is fine again
    await outbox.markDelivered(8);
    await outbox.close();
    const reopened = await Outbox.open(dir);
    expect(reopened.delivered).toBe(8);
    await reopened.close();
  });

  it("counts nothing as delivered in an outbox directory wiped and started again", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    for (let i = 0; i < 10; i++) await outbox.append(messageEvent(run, i));
    await outbox.markDelivered(10);
    await outbox.close();
    rmSync(dir, { recursive: true });

    const renewed = await Outbox.open(dir);
    for (let i = 0; i < 4; i++) await renewed.append(messageEvent(run, 100 + i));
    expect(renewed.delivered).toBe(0);
    expect(renewed.pending).toBe(4);
    expect((await renewed.read(renewed.delivered, 100)).events.map((e) => e.seq)).toEqual([
      100, 101, 102, 103,
    ]);
    // Past the old mark, and still all pending after a restart before any ack.
    for (let i = 4; i < 12; i++) await renewed.append(messageEvent(run, 100 + i));
    await renewed.close();
    const reopened = await Outbox.open(dir);
    expect(reopened.pending).toBe(12);
    await reopened.close();
  });

  it("sends again from the start of an older copy put back in the outbox's place", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    for (let i = 0; i < 5; i++) await outbox.append(messageEvent(run, i));
    await outbox.flush();
    const copy = `${dir}.copy`;
    cpSync(dir, copy, { recursive: true });
    for (let i = 5; i < 10; i++) await outbox.append(messageEvent(run, i));
    await outbox.markDelivered(10);
    await outbox.close();
    rmSync(dir, { recursive: true });
    cpSync(copy, dir, { recursive: true });

    const restored = await Outbox.open(dir);
    expect(restored.size).toBe(5);
    // Past the old mark, so a restart before any ack would take that mark as valid again.
    for (let i = 5; i < 11; i++) await restored.append(messageEvent(run, 50 + i));
    expect(restored.pending).toBe(11);
    await restored.close();
    const reopened = await Outbox.open(dir);
    expect(reopened.pending).toBe(11);
    await reopened.close();
  });

  it.each([
    ["keeps a mark from before outboxes had ids for an outbox from then", undefined],
    ["finishes an upgrade a crash cut short between the mark and the id file", "cut-short"],
  ])("%s", async (_, namedInMark) => {
    const dir = fresh();
    const outbox = await Outbox.open(dir);
    const run = uuidv7();
    for (let i = 0; i < 10; i++) await outbox.append(messageEvent(run, i));
    await outbox.close();
    // An outbox from before ids; or, cut short, the mark already names the id the upgrade chose.
    unlinkSync(join(dir, "id"));
    writeFileSync(`${dir}.acked`, `${JSON.stringify({ delivered: 6, outbox: namedInMark })}\n`);

    const upgraded = await Outbox.open(dir);
    expect(upgraded.delivered).toBe(6);
    await upgraded.close();
    if (namedInMark) expect(readFileSync(join(dir, "id"), "utf8").trim()).toBe(namedInMark);
    const reopened = await Outbox.open(dir);
    expect(reopened.delivered).toBe(6);
    await reopened.close();
  });

  it("finds the events of interrupted runs across segments, newest first", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir, { segmentBytes: 1_500 });
    const [a, b, other] = [uuidv7(), uuidv7(), uuidv7()];
    for (let i = 0; i < 12; i++) {
      await outbox.append(messageEvent(a, i));
      await outbox.append(messageEvent(other, i));
      if (i >= 5) await outbox.append(messageEvent(b, i - 5));
    }
    const found = await outbox.eventsOfRuns(new Set([a, b]));
    expect(found.get(a)!.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(found.get(b)!.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await outbox.close();
  });

  it("deletes fully delivered old segments when retention is set, never undelivered ones", async () => {
    const dir = fresh();
    const outbox = await Outbox.open(dir, { segmentBytes: 1_000, retainDeliveredMs: 1 });
    const run = uuidv7();
    for (let i = 0; i < 10; i++) await outbox.append(messageEvent(run, i));
    const before = readdirSync(dir).sort();
    const old = new Date(Date.now() - 60_000);
    for (const name of before) utimesSync(join(dir, name), old, old);
    await outbox.markDelivered(5);
    for (let i = 10; i < 20; i++) await outbox.append(messageEvent(run, i));
    const after = readdirSync(dir).sort();
    const firstKept = Number(after[0]!.slice(0, 12));
    expect(firstKept).toBeGreaterThan(0);
    expect(firstKept).toBeLessThanOrEqual(5);
    const read = await outbox.read(0, 100);
    expect(read.events[0]!.seq).toBe(firstKept);
    expect(read.events.at(-1)!.seq).toBe(19);
    await outbox.close();
  });

  it("reports no event durable that a short write (full disk, file-size limit) left out", async () => {
    const dir = fresh();
    // Two events fit, then a third, written alone; the nine queued behind it go in one group
    // commit, which the limit cuts short, and are refused, as is every append after.
    const wrote = writeUnderFileSizeLimit("outbox", dir);
    expect(wrote).toEqual({
      small: ["fulfilled", "fulfilled"],
      large: ["fulfilled", ...Array(9).fill("rejected")],
      after: ["rejected"],
      size: 3,
    });
    // The segment holds the three events and nothing of the nine: a restart neither sends one
    // of them nor joins the next event to a piece of one.
    const text = readFileSync(join(dir, "000000000000.ndjson"), "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(4);
    const outbox = await Outbox.open(dir);
    expect(outbox.size).toBe(3);
    await outbox.append(messageEvent(uuidv7(), 12));
    const read = await outbox.read(0, 10);
    expect(read.corrupt).toBe(0);
    expect(read.events.map((e) => e.seq)).toEqual([0, 1, 2, 12]);
    await outbox.close();
  });

  it("refuses appends after close", async () => {
    const outbox = await Outbox.open(fresh());
    await outbox.close();
    await expect(outbox.append(messageEvent(uuidv7(), 0))).rejects.toThrow("closed");
  });

  it("loses no acknowledged event when the writer is SIGKILLed mid-stream", async () => {
    const writer = fileURLToPath(new URL("./outbox-writer.fixture.ts", import.meta.url));
    for (let round = 0; round < 3; round++) {
      const dir = fresh();
      const acked: number[] = [];
      const child = spawn(process.execPath, ["--import", "tsx", writer, dir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let buffer = "";
      child.stdout.on("data", (chunk) => {
        buffer += chunk;
        const lines = buffer.split("\n");
        buffer = lines.pop()!;
        for (const line of lines) if (line) acked.push(Number(line));
      });
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (acked.length > 200 + round * 300) {
            clearInterval(check);
            child.kill("SIGKILL");
            resolve();
          }
        }, 5);
      });
      await new Promise((resolve) => child.on("exit", resolve));
      const outbox = await Outbox.open(dir, { segmentBytes: 4_096 });
      const all = await outbox.read(0, 1_000_000);
      expect(all.corrupt).toBe(0);
      expect(all.events.map((e) => e.seq)).toEqual(
        Array.from({ length: outbox.size }, (_, i) => i),
      );
      expect(outbox.size).toBeGreaterThanOrEqual(Math.max(...acked) + 1);
      await outbox.close();
    }
  });
});
