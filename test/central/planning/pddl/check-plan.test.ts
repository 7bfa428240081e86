import { describe, expect, it } from "vitest";
import { IPC_DOMAINS, ipcDomain } from "../../../../bench/pddl/domains";
import { checkPlan, problemSize, solve } from "../../../../central/planning/pddl";
import { readDomain, readProblem } from "../../../../contract/pddl";

const read = (name: string, size: number) => {
  const d = ipcDomain(name);
  const domain = readDomain(d.domain);
  return { domain, problem: readProblem(d.problem(size, 3), domain) };
};

function solved(name: string, size: number, optimal = false) {
  const { domain, problem } = read(name, size);
  const result = solve(domain, problem, { optimal });
  if (result.status !== "solved") throw new Error(`${name} ${size}: ${result.status}`);
  return { domain, problem, result, actions: result.steps.map((s) => s.action) };
}

/** The error checkPlan gives for `actions`, which must be refused. */
function refusal(name: string, size: number, edit: (actions: string[]) => string[]): string {
  const { domain, problem, actions } = solved(name, size);
  const checked = checkPlan(domain, problem, edit(actions));
  if (checked.ok) throw new Error("the plan was accepted");
  return checked.error;
}

describe("checking a plan made elsewhere", () => {
  it("accepts central's own plans on every domain, with their cost and the same partial order", () => {
    for (const d of IPC_DOMAINS) {
      const { domain, problem, result, actions } = solved(d.name, 4, d.name !== "logistics");
      const checked = checkPlan(domain, problem, actions);
      expect(checked, d.name).toMatchObject({ ok: true, cost: result.cost });
      if (!checked.ok) continue;
      expect(checked.steps, d.name).toEqual(result.steps);
      expect(checked.order, d.name).toEqual(result.order);
    }
  });

  it("reads actions as planners write them: any case, extra spaces", () => {
    const { domain, problem, actions } = solved("gripper", 3);
    const shouted = actions.map((a) => `  ${a.toUpperCase().replace(/ /g, "   ")} `);
    expect(checkPlan(domain, problem, shouted)).toMatchObject({ ok: true });
  });

  it("refuses an action whose precondition does not hold, saying which and why", () => {
    const error = refusal("blocksworld", 4, (a) => [a[1]!, a[0]!, ...a.slice(2)]);
    expect(error).toMatch(/^action 1 of \d+, \(.*\): its precondition \(.*\) does not hold/);
  });

  it("refuses a plan that stops short of the goal", () => {
    expect(refusal("gripper", 3, (a) => a.slice(0, -1))).toMatch(
      /^the goal \(at ball\d+ room\w*\) does not hold after the plan's \d+ actions$/,
    );
  });

  it("refuses unknown actions, wrong arities, objects of the wrong type and text that is no action", () => {
    expect(refusal("gripper", 2, (a) => ["(teleport ball1 rooma)", ...a])).toMatch(
      /action 1 of \d+, \(teleport ball1 rooma\): the domain has no action 'teleport'/,
    );
    expect(refusal("gripper", 2, (a) => ["(move rooma)", ...a])).toMatch(
      /'move' takes 2 arguments, not 1/,
    );
    expect(refusal("transport", 3, (a) => ["(drive cap0 cap1 cap2)", ...a])).toMatch(
      /'cap0' is not an object of type vehicle/,
    );
    expect(refusal("gripper", 2, (a) => ["move rooma roomb", ...a])).toMatch(
      /not a ground action such as \(name arg \.\.\.\)/,
    );
  });

  it("sizes a problem before grounding it: objects, and an upper bound on ground actions", () => {
    const { domain, problem } = read("gripper", 2);
    const size = problemSize(domain, problem);
    expect(size.objects).toBe(problem.objects.length + domain.constants.length);
    const { result } = solved("gripper", 2);
    expect(size.ground_actions).toBeGreaterThanOrEqual(result.stats.operators);
  });
});
