import type { RunError } from "../../contract";

/** Why a run is being stopped before its agent finished on its own. */
export type StopRequest =
  | { kind: "fail"; error: RunError }
  | { kind: "cancel"; reason: string; by: string | null }
  /** The agent is shutting down: leave the run open so the next start resumes it. */
  | { kind: "checkpoint"; reason: string };

/**
 * The one way anything stops a run (budget, loop guard, deadline, cancel, shutdown): the first
 * request wins and aborts the pi session; the executor turns it into the terminal event. One
 * exception: a cancel overrides a checkpoint, which would leave the run to be resumed on the
 * next start or dispatch, against the cancel.
 */
export class RunControl {
  private request: StopRequest | null = null;
  private abortSession: (() => void) | null = null;

  get stopRequest(): StopRequest | null {
    return this.request;
  }

  get stopped(): boolean {
    return this.request !== null;
  }

  /** Wires the session's abort once the session exists; a stop requested earlier fires now. */
  bindAbort(abort: () => void): void {
    this.abortSession = abort;
    if (this.request) abort();
  }

  stop(request: StopRequest): boolean {
    if (this.request && !(this.request.kind === "checkpoint" && request.kind === "cancel"))
      return false;
    this.request = request;
    this.abortSession?.();
    return true;
  }

  describe(): string {
    const r = this.request;
    if (!r) return "running";
    if (r.kind === "fail") return `${r.error.reason}: ${r.error.message}`;
    return r.reason;
  }
}
