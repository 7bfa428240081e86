import { describe, expect, it } from "vitest";
import { SerialWrites } from "../../edge/state-files";

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
