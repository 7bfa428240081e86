import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import type { PolicyRequest, PolicyScope } from "../../../contract";
import { pathGuardRule, pathSubject } from "../../../edge/policy/path-guard";
import { resolveReadPath, resolveToCwd } from "../../../edge/policy/pi-paths";
import type { EdgeRuntime } from "../../../edge/runtime";
// pi's own resolution, from its dist/ by file path (its package exports do not include it):
// the guard's copy in edge/policy/pi-paths.ts must agree with it.
import * as pi from "../../../node_modules/@earendil-works/pi-coding-agent/dist/core/tools/path-utils.js";
import { makeApp, ofKind, openRuntime, runTask } from "../helpers/runtime";

const root = mkdtempSync(join(tmpdir(), "path-guard-"));
const workdir = join(root, "work");
const skills = join(root, "skills");
const outside = join(root, "outside");
for (const dir of [join(workdir, "data"), skills, outside]) mkdirSync(dir, { recursive: true });
writeFileSync(join(outside, "secret.txt"), "OUTSIDE");
writeFileSync(join(workdir, "data", "x.csv"), "a,b");

const scope: PolicyScope = { tenant: "lab", principal: "k1", budget: {} };
const call = (tool: string, input: unknown): PolicyRequest => ({
  hook: "tool_call",
  run_id: "r",
  tool_call_id: "c",
  tool,
  input,
  workdir,
});
const rule = pathGuardRule([skills]);
const judge = async (tool: string, path: string) =>
  (await rule(call(tool, { path }), scope))?.effect;
const PATH_TOOLS = ["read", "write", "edit", "ls", "grep", "find"];

describe("path guard: file:// URLs", () => {
  it("judges a file:// URL as the path it names, for every file tool", async () => {
    for (const tool of PATH_TOOLS) {
      expect(await judge(tool, "file:///etc/passwd"), tool).toBe("deny");
      expect(await judge(tool, `file://${outside}/secret.txt`), tool).toBe("deny");
      expect(await judge(tool, `@file://${outside}/secret.txt`), tool).toBe("deny");
      expect(await judge(tool, pathToFileURL(join(workdir, "data", "x.csv")).href), tool).toBe(
        "allow",
      );
    }
    expect(pathSubject("read", { path: "file:///etc/passwd" }, workdir)).toBe("/etc/passwd");
  });

  it("denies a file:// URL it cannot turn into a path (pi cannot either)", async () => {
    const decision = await rule(call("read", { path: "file://remote-host/etc/passwd" }), scope);
    expect(decision).toMatchObject({ effect: "deny", rule_id: "path_guard" });
    expect(decision?.reason).toContain("cannot be resolved");
    expect(await judge("write", "file:///tmp/a%2Fb")).toBe("deny");
  });
});

describe("path guard: symlinks whose target does not exist", () => {
  const dangling = mkdtempSync(join(workdir, "dangling-"));
  symlinkSync(join(outside, "planted.txt"), join(dangling, "notes.txt"));
  symlinkSync("../../outside/new-dir", join(dangling, "out-dir"));
  symlinkSync("hop2", join(dangling, "hop1"));
  symlinkSync(join(outside, "chained.txt"), join(dangling, "hop2"));
  symlinkSync("not-yet.txt", join(dangling, "inside-link"));
  symlinkSync("loop-b", join(dangling, "loop-a"));
  symlinkSync("loop-a", join(dangling, "loop-b"));
  const rel = (name: string) => join(dangling.slice(workdir.length + 1), name);

  it("denies writing through a dangling link that points outside", async () => {
    for (const tool of ["write", "edit", "read"]) {
      expect(await judge(tool, rel("notes.txt")), tool).toBe("deny");
    }
    expect(await judge("write", rel("out-dir/sub/file.txt"))).toBe("deny");
  });

  it("follows chains of links to the end", async () => {
    expect(await judge("write", rel("hop1"))).toBe("deny");
  });

  it("allows a dangling link whose target would be inside the workdir", async () => {
    expect(await judge("write", rel("inside-link"))).toBe("allow");
    expect(await judge("write", rel("no-such-dir/new.txt"))).toBe("allow");
  });

  it("denies what it cannot resolve: a link loop", async () => {
    const decision = await rule(call("write", { path: rel("loop-a") }), scope);
    expect(decision).toMatchObject({ effect: "deny", rule_id: "path_guard" });
    expect(decision?.reason).toContain("cannot be resolved");
  });
});

describe("path guard: the filename variants pi's read falls back to", () => {
  const variants = mkdtempSync(join(workdir, "variants-"));
  symlinkSync(outside, join(variants, "lab\u2019s data"));
  symlinkSync(outside, join(variants, "cafe\u0301"));
  symlinkSync(join(outside, "secret.txt"), join(variants, "Shot 10.00.00\u202FAM.png"));
  symlinkSync(outside, join(variants, "d\u2019e\u0301te\u0301"));
  mkdirSync(join(variants, "lab\u2019s notes"));
  writeFileSync(join(variants, "lab\u2019s notes", "x.txt"), "inside");
  const rel = (name: string) => join(variants.slice(workdir.length + 1), name);

  it("judges the variant read opens, not the path as given", async () => {
    for (const path of [
      "lab\u2019s data/secret.txt",
      "lab's data/secret.txt",
      "caf\u00e9/secret.txt",
      "Shot 10.00.00 AM.png",
      "d'\u00e9t\u00e9/secret.txt",
    ]) {
      expect(await judge("read", rel(path)), path).toBe("deny");
    }
  });

  it("allows a variant that stays inside the workdir", async () => {
    expect(await judge("read", rel("lab's notes/x.txt"))).toBe("allow");
  });
});

describe("path guard: the copy of pi's resolution agrees with pi", () => {
  const variants = mkdtempSync(join(workdir, "agree-"));
  symlinkSync(outside, join(variants, "lab\u2019s data"));
  symlinkSync(outside, join(variants, "cafe\u0301"));
  writeFileSync(join(variants, "Shot 1.00.00\u202FPM.png"), "");
  const inputs = [
    "data/x.csv",
    "@data/x.csv",
    "../x",
    "/etc/passwd",
    "~",
    "~/x",
    "~x",
    "@~/x",
    "\u00a0x\u2003y",
    " spaced ",
    "file:///etc/passwd",
    `@${pathToFileURL(join(workdir, "data")).href}`,
    "file:///a%20b/%C3%A9",
    "file:/etc/passwd",
    "",
    ".",
    join(variants, "lab's data/secret.txt"),
    join(variants, "caf\u00e9/secret.txt"),
    join(variants, "Shot 1.00.00 PM.png"),
    join(variants, "nothing's here"),
  ];

  it("resolveToCwd and resolveReadPath", () => {
    for (const input of inputs) {
      expect(resolveToCwd(input, workdir), input).toBe(pi.resolveToCwd(input, workdir));
      expect(resolveReadPath(input, workdir), input).toBe(pi.resolveReadPath(input, workdir));
    }
    expect(resolveToCwd("x", `${pathToFileURL(workdir).href}`)).toBe(
      pi.resolveToCwd("x", `${pathToFileURL(workdir).href}`),
    );
    expect(resolveToCwd("~/x", workdir)).toBe(join(homedir(), "x"));
    expect(() => pi.resolveToCwd("file://host/x", workdir)).toThrow();
    expect(() => resolveToCwd("file://host/x", workdir)).toThrow();
  });
});

describe("path guard in a run: pi neither reads nor writes outside", () => {
  let runtime: EdgeRuntime | undefined;
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
  });

  it("blocks file:// URLs, dangling links and read's variants", async () => {
    const away = mkdtempSync(join(tmpdir(), "path-guard-away-"));
    writeFileSync(join(away, "secret.txt"), "TOP-SECRET-OUTSIDE");
    const app = makeApp({ appJson: { policy: { allowed_tools: ["read", "write", "ls"] } } });
    symlinkSync(join(away, "planted.txt"), join(app.workdir, "notes.txt"));
    symlinkSync(away, join(app.workdir, "lab\u2019s data"));
    symlinkSync(away, join(app.workdir, "cafe\u0301"));
    writeFileSync(join(app.workdir, "mine.txt"), "MINE");
    runtime = await openRuntime(app, [
      { tool: "read", args: { path: `file://${away}/secret.txt` } },
      { tool: "write", args: { path: `file://${away}/written.txt`, content: "via-file-url" } },
      { tool: "ls", args: { path: `file://${away}` } },
      { tool: "write", args: { path: "notes.txt", content: "via-dangling-link" } },
      { tool: "read", args: { path: "lab's data/secret.txt" } },
      { tool: "read", args: { path: "caf\u00e9/secret.txt" } },
      { tool: "read", args: { path: pathToFileURL(join(app.workdir, "mine.txt")).href } },
      { text: "done" },
    ]);
    const { events } = await runTask(runtime, "go");
    const finished = ofKind(events, "tool_call_finished").map((e) => [
      e.payload.tool,
      e.payload.status,
      e.payload.blocked_by ?? null,
    ]);
    expect(finished).toEqual([
      ["read", "blocked", "path_guard"],
      ["write", "blocked", "path_guard"],
      ["ls", "blocked", "path_guard"],
      ["write", "blocked", "path_guard"],
      ["read", "blocked", "path_guard"],
      ["read", "blocked", "path_guard"],
      ["read", "ok", null],
    ]);
    const results = ofKind(events, "message")
      .filter((e) => e.payload.role === "tool")
      .map((e) => e.payload.text);
    expect(results.join("\n")).not.toContain("TOP-SECRET-OUTSIDE");
    expect(results.at(-1)).toContain("MINE");
    expect(existsSync(join(away, "written.txt"))).toBe(false);
    expect(existsSync(join(away, "planted.txt"))).toBe(false);
    expect(readFileSync(join(away, "secret.txt"), "utf8")).toBe("TOP-SECRET-OUTSIDE");
  });
});
