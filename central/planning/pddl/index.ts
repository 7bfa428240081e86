export { type CheckedPlan, checkPlan, problemSize } from "./check-plan";
export { deorder, type PartialOrder } from "./deorder";
export { ground } from "./ground";
export type { LimitReason, Limits } from "./limits";
export { simulate } from "./plan";
export type { AdmissibleHeuristic } from "./search/astar";
export {
  buildSkillsDomain,
  paramKey,
  SkillDomainError,
  type SkillsDomain,
  skillsForSteps,
} from "./skills";
export {
  type PlanStep,
  type SolveOptions,
  type SolveResult,
  type SolveStats,
  solve,
  solveAsync,
  solvePddl,
} from "./solve";
export type { Operator, Task } from "./task";
