export type { Refusal, RunEffect, RunSettings } from "./effects";
export { FOLDED_KINDS } from "./facts";
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
export { hearsFrom } from "./reporters";
export { nextDue, type StepContext, type StepResult, stepRun } from "./step";
export {
  type Consumption,
  countModelCall,
  countToolCall,
  noConsumption,
  usageOf,
} from "./usage";
