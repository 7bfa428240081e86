import type { PlanSpec } from "../../contract";

/** The second sample app `auraison dev` runs beside lab-notes, so a plan can cross apps. */
export const SECOND_SAMPLE_APP = "sim-bench";

/** The gateway provider of the local stack's scripted planner: no model for agents' runs. */
const LOCAL_PLANNER_PROVIDER = "local-planner";

/** What the README and the start-up summary suggest submitting. */
export const SAMPLE_GOAL = "compare the notebook's measurements with a simulation";

const SAMPLE_PLAN: PlanSpec = {
  steps: [
    {
      id: "measure",
      title: "read the measurements from the notebook",
      type: "task",
      targets: [{ app: "lab-notes" }],
      params: { prompt: "summarise the notebook's measurements" },
      depends_on: [],
      inputs: {},
      max_attempts: 2,
      requires_approval: false,
    },
    {
      id: "simulate",
      title: "simulate the line",
      type: "task",
      targets: [{ app: SECOND_SAMPLE_APP }],
      params: { prompt: "simulate the 532 nm line" },
      depends_on: [],
      inputs: {},
      max_attempts: 2,
      requires_approval: false,
    },
    {
      id: "compare",
      title: "compare simulation and measurement",
      type: "task",
      targets: [{ app: SECOND_SAMPLE_APP }],
      params: { prompt: "compare the simulated line with the measurements" },
      depends_on: ["measure", "simulate"],
      inputs: { measured: { step: "measure" }, simulated: { step: "simulate" } },
      max_attempts: 2,
      requires_approval: false,
    },
  ],
};

/**
 * The local stack's planner when no real provider is configured: a scripted model on central's
 * gateway (a provider of kind `scripted`, labelled as such), which answers every goal with one
 * fixed plan across both sample apps — two independent steps in parallel, then one that takes
 * both results. Central calls it through its own gateway like a real model.
 */
export function samplePlannerConfig() {
  return {
    providers: [
      {
        id: LOCAL_PLANNER_PROVIDER,
        kind: "scripted" as const,
        models: ["sample-plan"],
        script: [{ answer: JSON.stringify(SAMPLE_PLAN) }],
      },
    ],
    aliases: { auto: { candidates: [`${LOCAL_PLANNER_PROVIDER}/sample-plan`] } },
  };
}
