import { describe, expect, it } from "vitest";
import { EventId, uuidv7, uuidv7Time } from "../../contract";

describe("uuidv7", () => {
  it("is a valid UUIDv7", () => {
    const id = uuidv7();
    expect(EventId.safeParse(id).success).toBe(true);
    expect(id[14]).toBe("7");
    expect("89ab").toContain(id[19]!);
  });

  it("embeds its creation time", () => {
    // Ahead of every id minted so far, so the monotonic guard does not move it.
    const future = Date.now() + 86_400_000;
    expect(uuidv7Time(uuidv7(future))).toBe(future);
  });

  it("sorts in creation order, even many within one millisecond", () => {
    const fixed = Date.now() + 60_000;
    const ids = Array.from({ length: 10_000 }, () => uuidv7(fixed));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("never goes backwards when the clock does", () => {
    const later = uuidv7(Date.now() + 120_000);
    const earlier = uuidv7(Date.now());
    expect(earlier > later).toBe(true);
  });
});
