import { describe, expect, it } from "vitest";
import { check, EventId, PlanId, RunId, tailText, truncateText, uuidv7 } from "../../contract";

describe("excerpts of text", () => {
  it("never cut between the halves of a surrogate pair, wherever the limit falls", () => {
    const text = `${"x".repeat(100)}${"😀".repeat(50)}${"y".repeat(100)}`;
    for (let max = 40; max < text.length; max++)
      for (const excerpt of [truncateText(text, max), tailText(text, max)]) {
        expect(excerpt.length).toBeLessThanOrEqual(max);
        // As the log writes it: half a pair alone would be a `\ud83d` escape.
        expect(JSON.stringify(excerpt)).not.toMatch(/\\ud[89a-f]/i);
      }
  });

  it("keep text within the limit as it is, and mark the cut of the rest", () => {
    expect(truncateText("😀", 10)).toBe("😀");
    expect(tailText("abc", 3)).toBe("abc");
    expect(truncateText("a".repeat(100), 40)).toBe(`${"a".repeat(19)}…[truncated 60 chars]`);
    expect(tailText("abcdef", 4)).toBe("…def");
  });
});

describe("ids", () => {
  it("are UUIDv7 in lower-case hex: the same id in upper case is refused, not a second id", () => {
    const id = uuidv7();
    for (const schema of [EventId, RunId, PlanId]) {
      expect(check(schema, id).ok).toBe(true);
      const upper = check(schema, id.toUpperCase());
      expect(upper.ok).toBe(false);
      if (!upper.ok) expect(upper.issues[0]!.message).toBe("a UUIDv7 in lower-case hex");
    }
  });
});
