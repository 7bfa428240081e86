import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EdgeRuntime } from "../../../edge/runtime";
import { ofKind, runTask } from "../../edge/helpers/runtime";
import {
  EXAMPLE_APPS,
  expectScriptedRun,
  openExampleApp,
  outputOf,
} from "../../helpers/example-app";
import { fakeVllm } from "../../helpers/fake-vllm";

/**
 * The dea (Deep Evidence Agent) reference app, offline: its scripted model plays Planner,
 * Researcher, Synthesizer and Critic with the real file tools and the skills' scripts over the
 * seeded artifacts, and asks the judge model through the openai-inference adapter (an
 * OpenAI-compatible server standing in for vLLM: no GPU or weights here).
 */
const SKILLS = join(EXAMPLE_APPS, "dea", "skills");
let vllm: Awaited<ReturnType<typeof fakeVllm>>;
let runtime: EdgeRuntime;
let workdir = "";

beforeAll(async () => {
  vllm = await fakeVllm(() => ({
    text: JSON.stringify({
      supported: true,
      confidence: 0.9,
      reason: "35 C lies within 10-40 C and the test failed there.",
    }),
  }));
  const app = await openExampleApp("dea", {
    DEA_JUDGE: new URL(vllm.url).host,
    DEA_JUDGE_KEY: "k-judge",
  });
  runtime = app.runtime;
  workdir = app.workdir;
});
afterAll(async () => {
  await runtime?.close();
  await vllm?.close();
});

const script = (skill: string, name: string, args: string[], cwd: string) => {
  try {
    return {
      code: 0,
      out: execFileSync("bash", [join(SKILLS, skill, "scripts", name), ...args], {
        cwd,
        encoding: "utf8",
      }),
    };
  } catch (error) {
    const e = error as { status: number; stdout: string };
    return { code: e.status, out: e.stdout };
  }
};

describe("examples/apps/dea (scripted model; file tools, skill scripts, vLLM stand-in for the judge)", () => {
  it("plans, traces the evidence, drafts, checks every citation, asks the judge, writes the report", async () => {
    const question = "Is REQ-002 (holding force) met, and what is the evidence?";
    const { record, events } = await runTask(runtime, question);
    expect(record.status).toBe("completed");
    expectScriptedRun(events, [
      ["bash"],
      ["write"],
      ["bash", "bash"],
      ["read"],
      ["write"],
      ["bash", "judge_claim"],
      ["write"],
    ]);
    const finished = ofKind(events, "tool_call_finished").map((e) => e.payload);
    const bash = finished.filter((f) => f.tool === "bash").map((f) => f.result!);
    // Planner: four artifacts, with their ids.
    expect(bash[0]).toContain(
      "artifacts/tests/TR-2026-11-30.md | Test report TR-2026-11-30: gripper holding force | id: TST-021",
    );
    expect(bash[0]).toContain("== 4 artifacts");
    // Researcher: REQ-002 in all four artifacts, and the ids one hop away.
    // The trace and the search ran in parallel: either may have finished first.
    const trace = bash.find((b) => b.startsWith("== REQ-002"))!;
    expect(trace).toContain("== REQ-002: 5 mentions in 4 artifacts");
    expect(trace).toMatch(
      /== linked ids\nDES-010: .*\nINC-0042: .*\nREQ-001: .*\nREQ-003: .*\nTST-021: /,
    );
    expect(bash.find((b) => b !== trace && b.includes("slip"))).toContain(
      "artifacts/tests/TR-2026-11-30.md:12:Result: FAIL at 35 C",
    );
    // Critic: every citation of the draft resolves; the judge was asked with the evidence.
    expect(bash[3]).toContain("== 9 citations, 0 unresolved, 0 uncited claims");
    expect(vllm.requests).toHaveLength(1);
    expect(vllm.requests[0]!.authorization).toBe("Bearer k-judge");
    const messages = vllm.requests[0]!.body.messages as Array<{ role: string; content: unknown }>;
    expect(messages[0]!.content).toMatch(/^You check engineering claims against evidence/);
    expect(JSON.stringify(messages[1]!.content)).toContain(
      "[artifacts/tests/TR-2026-11-30.md:12] Result: FAIL at 35 C",
    );
    const judged = ofKind(events, "tool_call_finished").find(
      (e) => e.payload.tool === "judge_claim",
    )!;
    expect(outputOf(judged)).toMatchObject({ supported: true, confidence: 0.9 });
    // Synthesizer: the report is on disk, and its citations hold there too.
    const report = readFileSync(join(workdir, "reports/REQ-002.md"), "utf8");
    expect(report).toMatch(/^# Is REQ-002 .*\n[\s\S]*Verdict: partly met/);
    expect(
      script("dea-critique", "check-citations.sh", ["reports/REQ-002.md"], workdir),
    ).toMatchObject({ code: 0 });
    expect(record.result).toContain("not from a model");
  });

  it("the critic's check fails a draft with a dangling citation or an uncited claim", () => {
    const dir = mkdtempSync(join(tmpdir(), "dea-critic-"));
    cpSync(join(EXAMPLE_APPS, "dea", "seed"), dir, { recursive: true });
    writeFileSync(
      join(dir, "draft.md"),
      "# Q\n\n- the gripper holds 5 kg [artifacts/requirements/gripper.md:99]\n- the pads never soften\n- REQ-003 asks for 0.8 s [artifacts/requirements/gripper.md:13]\n",
    );
    const r = script("dea-critique", "check-citations.sh", ["draft.md"], dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain("UNRESOLVED artifacts/requirements/gripper.md:99");
    expect(r.out).toContain("UNCITED - the pads never soften");
    expect(r.out).toContain(
      "ok artifacts/requirements/gripper.md:13: A full open-close cycle takes at most 0.8 s.",
    );
    expect(r.out).toContain("== 2 citations, 1 unresolved, 1 uncited claims");
  });

  it("registers the four roles as skills taking a question (and artifacts_dir) as params", () => {
    expect(runtime.skills.map((s) => [s.name, s.params?.required])).toEqual([
      ["dea-critique", ["question"]],
      ["dea-plan", ["question"]],
      ["dea-research", ["question"]],
      ["dea-synthesize", ["question"]],
    ]);
    expect(runtime.skills[0]!.params).toMatchObject({
      properties: { artifacts_dir: { default: "artifacts" } },
    });
  });
});
