import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { inside, realOrResolved, realPath, realPathOrNull } from "../../../edge/policy/real-path";

// realpath(3) of the temporary directory: /tmp may itself be a link (macOS).
const root = realpathSync(mkdtempSync(join(tmpdir(), "real-path-")));
const work = join(root, "work");
const outside = join(root, "outside");
mkdirSync(join(work, "data"), { recursive: true });
mkdirSync(outside);
writeFileSync(join(work, "data", "x.csv"), "a,b");
symlinkSync(join(outside, "planted.txt"), join(work, "dangling"));
symlinkSync("hop2", join(work, "hop1"));
symlinkSync("../outside", join(work, "hop2"));
symlinkSync("loop-b", join(work, "loop-a"));
symlinkSync("loop-a", join(work, "loop-b"));

describe("realPath", () => {
  it("is realpath where the path exists", () => {
    for (const path of [join(work, "data", "x.csv"), join(work, "hop1"), work])
      expect(realPath(path)).toBe(realpathSync(path));
  });

  it("follows a dangling link to where a write would create its target", () => {
    expect(realPath(join(work, "dangling"))).toBe(join(outside, "planted.txt"));
    expect(realPath(join(work, "hop1", "new", "file.txt"))).toBe(join(outside, "new", "file.txt"));
  });

  it("keeps components that do not exist", () => {
    expect(realPath(join(work, "no", "such", "file"))).toBe(join(work, "no", "such", "file"));
  });

  it("takes `..` before a link as the name says, as pi's tools resolve a path before opening it", () => {
    expect(realPath(join(work, "hop1", "..", "x"))).toBe(join(work, "x"));
  });

  it("takes `..` in a link's target after the link", () => {
    symlinkSync("hop1/../data", join(work, "through"));
    expect(realPath(join(work, "through"))).toBe(join(root, "data"));
  });

  it("throws on a link loop; the variants answer null and the path made absolute", () => {
    expect(() => realPath(join(work, "loop-a"))).toThrow(/too many levels/);
    expect(realPathOrNull(join(work, "loop-a"))).toBeNull();
    expect(realOrResolved(join(work, "loop-a", "..", "loop-b"))).toBe(join(work, "loop-b"));
  });
});

describe("inside", () => {
  it("takes a name that starts with `..` as inside, and `..` itself or a path through it as not", () => {
    expect(inside(join(work, "..x"), work)).toBe(true);
    expect(inside(join(work, "..", "x"), work)).toBe(false);
    expect(inside(root, work)).toBe(false);
    expect(inside(work, work)).toBe(true);
    expect(inside(join(root, "work-other"), work)).toBe(false);
  });
});
