import type { BudgetLimits } from "../../contract";
import type { AppFolder } from "../config/app-folder";
import type { Emitter } from "../events/emitter";
import type { RunControl } from "./run-control";
import type { RunRecord } from "./run-record";
import type { RunView } from "./run-view";

/** What the platform extensions of one run share. */
export interface RunContext {
  record: RunRecord;
  agentId: string;
  app: AppFolder;
  workdir: string;
  emitter: Emitter;
  /** The run as its own events tell it: usage, turns, tool calls allowed. */
  view: RunView;
  control: RunControl;
  /** The limits in force: the lower of the intent's and the app's per dimension. */
  budget: BudgetLimits;
  /** The tenant secrets central handed this run attempt (for adapters only; never written). */
  secrets: Readonly<Record<string, string>>;
}
