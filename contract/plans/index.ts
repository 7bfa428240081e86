export { checkPlanSteps, type FleetCatalogue } from "./check";
export * from "./plan";
export {
  allSteps,
  isKept,
  isUnderway,
  type PlanContext,
  type PlanEffect,
  type PlanInput,
  type PlanStepResult,
  planDue,
  planUsage,
  stepPlan,
} from "./step-plan";
