import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { IPC_DOMAINS } from "../../../../bench/pddl/domains";
import {
  hasPlanningPython,
  PLANNING_PYTHON,
  runFastDownward,
} from "../../../../bench/pddl/fast-downward";
import { type SolveResult, solvePddl } from "../../../../central/planning/pddl";
import { linearisation } from "./support";

/**
 * Our plans against real planning tools (installed by `npm run planning:python`; CI always
 * has them): every plan, and random linearisations of its partial order, is checked by
 * unified-planning's validator, and optimal costs must equal Fast Downward's astar(lmcut).
 */

const SIZES: Record<string, { greedy: number[]; optimal: number[] }> = {
  blocksworld: { greedy: [8, 14, 25], optimal: [6, 8] },
  gripper: { greedy: [10, 30], optimal: [4, 6] },
  logistics: { greedy: [6, 12], optimal: [3, 5] },
  miconic: { greedy: [10, 20], optimal: [5, 8] },
  visitall: { greedy: [5, 8], optimal: [3, 4] },
  transport: { greedy: [6, 10], optimal: [3, 4] },
  lab: { greedy: [5, 8], optimal: [3, 4] },
};

type Solved = SolveResult & { status: "solved" };

interface Job {
  id: string;
  domain: string;
  problem: string;
  plans: Record<string, string>;
}

const planText = (actions: string[]) => `${actions.join("\n")}\n`;

function validate(
  jobs: Job[],
): Map<string, Record<string, { valid: boolean; reason: string | null }>> {
  const run = spawnSync("python3", [fileURLToPath(new URL("./validate.py", import.meta.url))], {
    input: JSON.stringify(jobs),
    encoding: "utf8",
    env: { ...process.env, PYTHONPATH: PLANNING_PYTHON },
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(run.status, run.stderr).toBe(0);
  const out = JSON.parse(run.stdout) as {
    id: string;
    plans: Record<string, { valid: boolean; reason: string | null }>;
  }[];
  return new Map(out.map((r) => [r.id, r.plans]));
}

describe.skipIf(!hasPlanningPython() && !process.env.CI)("plans checked by real planners", () => {
  it("are valid per unified-planning, linearisations included; optimal costs equal Fast Downward's", () => {
    const dir = mkdtempSync(join(tmpdir(), "pddl-validation-"));
    const jobs: Job[] = [];
    const optimal: { id: string; domain: string; problem: string; cost: number }[] = [];
    const problems: string[] = [];
    for (const d of IPC_DOMAINS) {
      const domainFile = join(dir, `${d.name}.pddl`);
      writeFileSync(domainFile, d.domain);
      for (const mode of ["greedy", "optimal"] as const)
        for (const size of SIZES[d.name]![mode]) {
          const id = `${d.name}-${size}-${mode}`;
          const problem = d.problem(size, mode === "greedy" ? 1 : 2);
          const problemFile = join(dir, `${id}.pddl`);
          writeFileSync(problemFile, problem);
          const result = solvePddl(d.domain, problem, {
            optimal: mode === "optimal",
            deadline: Date.now() + 30_000,
          });
          if (result.status !== "solved") {
            problems.push(`${id}: ${result.status} ${result.reason}`);
            continue;
          }
          const solved = result as Solved;
          const actions = solved.steps.map((s) => s.action);
          const plans: Record<string, string> = { plan: planText(actions) };
          for (let k = 0; k < 3; k++)
            plans[`linearisation-${k}`] = planText(
              linearisation(actions.length, solved.order, 17 * size + k).map((i) => actions[i]!),
            );
          jobs.push({ id, domain: domainFile, problem: problemFile, plans });
          if (mode === "optimal")
            optimal.push({ id, domain: d.domain, problem, cost: solved.cost });
        }
    }
    // The checker can fail: a plan missing its first action is refused.
    const broken = jobs.find((j) => j.id.startsWith("blocksworld"))!;
    broken.plans.broken = planText(broken.plans.plan!.trim().split("\n").slice(1));
    const verdicts = validate(jobs);
    for (const job of jobs)
      for (const [name, verdict] of Object.entries(verdicts.get(job.id) ?? {}))
        if (verdict.valid !== (name !== "broken"))
          problems.push(`${job.id} ${name}: ${verdict.valid ? "valid" : verdict.reason}`);
    for (const o of optimal) {
      const fd = runFastDownward(o.domain, o.problem, "astar(lmcut)", 60);
      if (fd.cost !== o.cost)
        problems.push(`${o.id}: our optimal cost ${o.cost}, Fast Downward's ${fd.cost}`);
    }
    expect(problems).toEqual([]);
    expect(verdicts.size).toBe(jobs.length);
    expect(optimal.length).toBe(Object.values(SIZES).reduce((n, s) => n + s.optimal.length, 0));
  }, 240_000);
});
