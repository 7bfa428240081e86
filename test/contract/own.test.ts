import { describe, expect, it } from "vitest";
import { own } from "../../contract";

describe("own", () => {
  it("answers a record's own entries, never Object.prototype's members", () => {
    const record: Record<string, number> = JSON.parse('{"a": 1, "constructor": 2}');
    expect(own(record, "a")).toBe(1);
    expect(own(record, "constructor")).toBe(2);
    for (const key of ["__proto__", "toString", "hasOwnProperty", "valueOf", "b"])
      expect(own(record, key)).toBeUndefined();
  });
});
