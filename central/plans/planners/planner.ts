import type { FleetCatalogue, Plan, PlanStepSpec, Skill, Usage } from "../../../contract";

/** What the fleet offers a planner: the catalogue plans are checked against, with whole skills. */
export interface PlanningFleet extends FleetCatalogue {
  agents: readonly {
    agent_id: string;
    app: string;
    skills: readonly Skill[];
    capabilities: readonly string[];
  }[];
}

/** One planning round's question: the plan as it stands, and why its last answer was refused. */
export interface PlanningAsk {
  plan: Plan;
  round: "initial" | "repair";
  attempt: number;
  feedback: string | null;
  fleet: PlanningFleet;
}

/** A planner's answer: steps (checked afterwards against the fleet), or why it made none. */
export type PlanningAnswer =
  | {
      ok: true;
      steps: PlanStepSpec[];
      usage: Usage;
      /** A PDDL plan's solver, and how it was made. */
      solver?: "central" | "external";
      note?: string;
    }
  | { ok: false; error: string; usage: Usage };

/** Makes (or repairs) a plan. It may take time; central checks what it answers. */
export interface Planner {
  plan(ask: PlanningAsk): Promise<PlanningAnswer>;
}
