import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { simulate } from "../../../central/planning/pddl";
import { PROJECT_ROOT } from "../../../cli/wrangler";
import { taskOf } from "../../central/planning/pddl/support";
import { runCli } from "../../helpers/cli";

/** `auraison plan pddl`: the planner central uses, run locally on files. */
const DOMAIN = join(PROJECT_ROOT, "examples", "pddl", "lab-domain.pddl");
const PROBLEM = join(PROJECT_ROOT, "examples", "pddl", "lab-problem.pddl");
const dir = mkdtempSync(join(tmpdir(), "auraison-plan-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const plan = (...args: string[]) => runCli(["plan", "pddl", ...args], { timeoutMs: 60_000 });

describe("auraison plan pddl", () => {
  it("prints the plan as JSON: ground actions in a valid order, cost and partial order", async () => {
    const r = await plan("--domain", DOMAIN, "--problem", PROBLEM, "--optimal", "--json");
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      actions: string[];
      cost: number;
      order: [number, number][];
      layers: number[][];
      optimal: boolean;
    };
    expect(out).toMatchObject({ cost: 22, optimal: true });
    expect(out.actions[0]).toMatch(/^\(pick (left|right) s[12] store\)$/);
    const task = taskOf(readFileSync(DOMAIN, "utf8"), readFileSync(PROBLEM, "utf8"));
    const ids = out.actions.map((a) => task.operators.findIndex((o) => o.name === a));
    expect(simulate(task, ids)).toEqual({ ok: true });
    for (const [i, j] of out.order) expect(i).toBeLessThan(j);
    // Two arms: the optimal plan's steps pair up in parallel layers.
    expect(out.layers.length).toBeLessThan(out.actions.length);
  });

  it("prints the plan, its cost and its parallel layers for people", async () => {
    const r = await plan("--domain", DOMAIN, "--problem", PROBLEM, "--timeout", "30s");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^plan: \d+ actions, cost \d+\n\s+1\. \(pick /);
    expect(r.stdout).toMatch(/parallel layers \(\d+\):\n\s+1: \(pick /);
  });

  it("refuses unsupported requirements with their names (exit 2)", async () => {
    const bad = file("adl.pddl", "(define (domain d)\n  (:requirements :adl :fluents :strips))");
    const r = await plan("--domain", bad, "--problem", PROBLEM);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `auraison: ${bad}: line 2, column 18: unsupported requirements :adl :fluents`,
    );
    // With --json the same refusal is one JSON object on stderr.
    const json = await plan("--domain", bad, "--problem", PROBLEM, "--json");
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error).toMatchObject({
      code: "usage",
      exit_code: 2,
      message: expect.stringContaining("unsupported requirements :adl :fluents"),
    });
    const missing = await plan("--domain", join(dir, "nope.pddl"), "--problem", PROBLEM);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.pddl/);
    const badTimeout = await plan("--domain", DOMAIN, "--problem", PROBLEM, "--timeout", "soon");
    expect(badTimeout.code).toBe(2);
  });

  it("exits 1 with no plan, telling 'none exists' from 'none within the limits'", async () => {
    const token = file(
      "token.pddl",
      `(define (domain token) (:predicates (token) (a) (b))
        (:action use-a :parameters () :precondition (token) :effect (and (a) (not (token))))
        (:action use-b :parameters () :precondition (token) :effect (and (b) (not (token)))))`,
    );
    const both = file(
      "both.pddl",
      "(define (problem p) (:domain token) (:init (token)) (:goal (and (a) (b))))",
    );
    const none = await plan("--domain", token, "--problem", both);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no plan exists: no plan: every reachable state was searched");
    const limited = await plan(
      "--domain",
      DOMAIN,
      "--problem",
      PROBLEM,
      "--optimal",
      "--max-expansions",
      "3",
    );
    expect(limited.code).toBe(1);
    expect(limited.stderr).toContain("no plan within the limits (expansions) after 3 expansions");
  });

  it("plans over an app's skills with --skills: their domains merged, each step with the skills that do it", async () => {
    const app = join(PROJECT_ROOT, "examples", "apps", "ar4-physical-ai");
    const r = await plan(
      "--skills",
      join(app, "skills"),
      "--problem",
      join(app, "pddl", "problem.pddl"),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^plan: 4 actions, cost 4\n\s+1\. \(pick blue red\) {2}\[pick\]\n\s+2\. \(place blue pad3\) {2}\[place\]/,
    );

    const skills = join(dir, "skills");
    const skill = (name: string, pddl: string) => file(join("skills", name, "domain.pddl"), pddl);
    mkdirSync(join(skills, "a"), { recursive: true });
    mkdirSync(join(skills, "b"), { recursive: true });
    skill(
      "a",
      "(define (domain d) (:predicates (p ?x)) (:action a :parameters (?x) :precondition (p ?x) :effect (not (p ?x))))",
    );
    skill(
      "b",
      "(define (domain d) (:predicates (p ?x ?y)) (:action b :parameters () :precondition () :effect ()))",
    );
    const problem = file(
      "d-problem.pddl",
      "(define (problem q) (:domain d) (:objects o) (:init (p o)) (:goal (not (p o))))",
    );
    const disagree = await plan("--skills", skills, "--problem", problem);
    expect(disagree.code).toBe(2);
    expect(disagree.stderr).toContain("skills 'a' and 'b' declare predicate 'p' differently");
    const neither = await plan("--problem", problem);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("give one of --domain <file> or --skills <dir>");
    const empty = await plan("--skills", join(dir, "nope"), "--problem", problem);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/cannot read .*nope/);
  });
});
