import { describe, expect, it } from "vitest";
import { shownPath } from "../../cli/shown-path";

describe("a path as the CLI prints it", () => {
  it("is relative under the working directory, absolute outside it", () => {
    expect(shownPath("/work/repo/.auraison/lake", "/work/repo")).toBe(".auraison/lake");
    expect(shownPath("/work/repo", "/work/repo")).toBe(".");
    expect(shownPath("/tmp/ah/lake", "/work/repo")).toBe("/tmp/ah/lake");
    expect(shownPath("/work/other/lake", "/work/repo")).toBe("/work/other/lake");
    // A name that merely starts with two dots is still under it.
    expect(shownPath("/work/repo/..state/lake", "/work/repo")).toBe("..state/lake");
  });
});
