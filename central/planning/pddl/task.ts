/**
 * A grounded STRIPS task: what the search works on. Facts are the fluent atoms that can become
 * true (static atoms were settled while grounding); an operator is one ground action.
 */
export interface Operator {
  /** In PDDL syntax, e.g. `(stack b1 b2)`. */
  name: string;
  /** The action schema it instantiates (for mapping to the skill that declared it). */
  schema: string;
  pre: number[];
  /** Facts that must be false. */
  preNeg: number[];
  add: number[];
  del: number[];
  cost: number;
}

export interface Task {
  /** Fact names in PDDL syntax, e.g. `(on b1 b2)`. */
  facts: string[];
  operators: Operator[];
  /** Facts true initially. */
  init: number[];
  goal: number[];
  /** Facts that must be false at the end. */
  goalNeg: number[];
  /** True when the problem minimises (total-cost); else every action costs 1. */
  hasCosts: boolean;
  /** Set when grounding already proved the goal unreachable, with the reason. */
  unreachable?: string;
}
