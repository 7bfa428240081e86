import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../contract";
import { RejectedEvents } from "../../../edge/outbox/rejected";
import { messageEvent } from "../helpers/events";
import { writeUnderFileSizeLimit } from "../helpers/file-size-limit";

describe("RejectedEvents", () => {
  it("keeps a batch whole or not at all, so one sent again after a failed write is kept", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "rejected-")), "outbox.rejected.jsonl");
    // One refused event fits; a batch of ten is cut short at the file-size limit, then refused.
    expect(writeUnderFileSizeLimit("rejected", path)).toEqual({
      small: ["fulfilled"],
      large: ["rejected"],
      count: 1,
    });
    const before = readFileSync(path, "utf8");
    expect(before.split("\n")).toHaveLength(2);
    // Delivery sends the batch again (without a limit now): every one of its events is kept,
    // each on a line of its own.
    const rejected = await RejectedEvents.open(path);
    expect(rejected.count).toBe(1);
    const run = uuidv7();
    const issues = [{ path: "payload", expected: "x", message: "refused", code: "custom" }];
    await rejected.add(
      Array.from({ length: 10 }, (_, i) => ({ event: messageEvent(run, 1 + i), issues })),
    );
    expect(rejected.count).toBe(11);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(11);
    for (const line of lines) expect(JSON.parse(line).event.kind).toBe("message");
    expect((await RejectedEvents.open(path)).count).toBe(11);
  });
});
