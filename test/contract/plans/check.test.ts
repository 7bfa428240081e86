import { describe, expect, it } from "vitest";
import { checkPlanSteps, type FleetCatalogue, PlanSpec } from "../../../contract";

const fleet: FleetCatalogue = {
  agents: [
    {
      agent_id: "nav-1",
      app: "turtlebot-maze",
      capabilities: ["gpu"],
      skills: [
        {
          name: "navigate",
          params: {
            type: "object",
            properties: { goal: { type: "string" }, speed: { type: "number", maximum: 1 } },
            required: ["goal"],
          },
        },
      ],
    },
    {
      agent_id: "notes-1",
      app: "lab-notes",
      capabilities: [],
      skills: [{ name: "notes-summary" }],
    },
  ],
};

const steps = (...s: Record<string, unknown>[]) =>
  PlanSpec.parse({ steps: s.map((x) => ({ targets: [{ app: "lab-notes" }], ...x })) }).steps;

describe("checking a plan before it runs", () => {
  it("lets a repair take inputs from a kept step that is still running only by waiting for it", () => {
    const kept = [
      { id: "done", status: "completed" as const },
      { id: "busy", status: "running" as const },
    ];
    const repair = (more: Record<string, unknown>) =>
      checkPlanSteps(steps({ id: "next", inputs: { x: { step: "busy" } }, ...more }), fleet, kept);
    expect(repair({})).toEqual([
      expect.objectContaining({
        path: "steps[0].inputs.x.step",
        message: "input 'x' comes from 'busy', which 'next' does not wait for",
      }),
    ]);
    expect(repair({ depends_on: ["busy"] })).toEqual([]);
    expect(
      checkPlanSteps(steps({ id: "next", inputs: { x: { step: "done" } } }), fleet, kept),
    ).toEqual([]);
  });

  it("accepts a valid graph over the fleet's skills", () => {
    expect(
      checkPlanSteps(
        steps(
          { id: "go", targets: [{ skill: "navigate" }], params: { goal: "dock" } },
          { id: "note", depends_on: ["go"], inputs: { where: { step: "go" } } },
        ),
        fleet,
      ),
    ).toEqual([]);
  });

  it("names a cycle, unknown dependencies and reused ids, with their paths", () => {
    const issues = checkPlanSteps(
      steps(
        { id: "a", depends_on: ["c"] },
        { id: "b", depends_on: ["a"] },
        { id: "c", depends_on: ["b"] },
        { id: "d", depends_on: ["ghost"] },
        { id: "a" },
      ),
      fleet,
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["steps[4].id", "step id 'a' is used twice"],
      ["steps[3].depends_on[0]", "no step 'ghost'"],
      ["steps[0].depends_on", "the steps depend on each other in a cycle: a -> c -> b -> a"],
    ]);
  });

  it("refuses an input from a step it does not wait for", () => {
    const issues = checkPlanSteps(
      steps({ id: "a" }, { id: "b", inputs: { x: { step: "a" } } }),
      fleet,
    );
    expect(issues[0]).toMatchObject({ path: "steps[1].inputs.x.step" });
  });

  it("refuses a target no registered agent serves, and params the skill does not accept", () => {
    const issues = checkPlanSteps(
      steps(
        { id: "a", targets: [{ app: "counter-uas" }] },
        { id: "b", targets: [{ skill: "navigate" }], params: { speed: 3 } },
        { id: "c", targets: [{ app: "lab-notes", capabilities: ["gpu"] }] },
      ),
      fleet,
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["steps[0].targets[0]", "no registered agent serves app counter-uas"],
      ["steps[1].params.goal", expect.stringMatching(/expected string/)],
      ["steps[1].params.speed", expect.stringMatching(/<=1/)],
      ["steps[2].targets[0]", "no registered agent serves app lab-notes, capabilities gpu"],
    ]);
  });

  it("lets params come from inputs, and new steps build on the completed steps a replan keeps", () => {
    expect(
      checkPlanSteps(
        steps({
          id: "go",
          targets: [{ skill: "navigate" }],
          depends_on: ["found"],
          inputs: { goal: { step: "found" } },
        }),
        fleet,
        [{ id: "found", status: "completed" }],
      ),
    ).toEqual([]);
    expect(
      checkPlanSteps(steps({ id: "found" }), fleet, [{ id: "found", status: "completed" }])[0],
    ).toMatchObject({
      message: "step id 'found' is used twice",
    });
  });
});
