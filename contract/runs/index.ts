export type { Refusal, RunEffect, RunSettings } from "./effects";
export type { RefuseReason, RunInput } from "./inputs";
export {
  blankRun,
  type Hold,
  isSettled,
  queuedRun,
  type RunLife,
  type RunOwner,
  runStateOf,
  type WaitingView,
} from "./life";
export { inLogOrder, replayRun } from "./replay";
export { FOLDED_KINDS, nextDue, type StepContext, type StepResult, stepRun } from "./step";
export {
  type Consumption,
  countModelCall,
  countToolCall,
  noConsumption,
  usageOf,
} from "./usage";
