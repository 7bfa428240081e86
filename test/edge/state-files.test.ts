import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SerialWrites } from "../../edge/state-files";
import { writeUnderFileSizeLimit } from "./helpers/file-size-limit";

describe("SerialWrites", () => {
  it("runs writes one at a time, in order, and a failed one stops none after it", async () => {
    const writes = new SerialWrites();
    const log: string[] = [];
    let release!: () => void;
    const first = writes.run(async () => {
      log.push("first starts");
      await new Promise<void>((resolve) => (release = resolve));
      log.push("first ends");
      throw new Error("disk full");
    });
    const second = writes.run(async () => {
      log.push("second");
    });
    await Promise.resolve();
    expect(log).toEqual(["first starts"]);
    release();
    await expect(first).rejects.toThrow("disk full");
    await second;
    expect(log).toEqual(["first starts", "first ends", "second"]);
    await expect(writes.settled).resolves.toBeUndefined();
  });
});

describe("appendDurably", () => {
  it("appends all or none: a write the file-size limit cuts short is cut back to the last line", () => {
    const path = join(mkdtempSync(join(tmpdir(), "append-all-")), "file");
    expect(writeUnderFileSizeLimit("append-all", path)).toEqual({ result: "EFBIG" });
    // 6 KiB of the 20,000 bytes went in before the limit refused the rest: all of them are gone.
    expect(readFileSync(path, "utf8")).toBe("a whole line\n");
  });
});
