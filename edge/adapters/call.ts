import { type JsonValue, redactedExcerpt } from "../../contract";
import type { AdapterResult } from "./adapter";

/** How much of a tool's output the model reads; the full output stays in the call's details. */
const MODEL_TEXT_CHARS = 50_000;

/**
 * An adapter's result: its output, and the text the model reads. A text too long for the model
 * is redacted before it is cut, since the excerpt is what the run's session keeps, and a secret
 * the cut split would no longer be recognised when the session is redacted on its way to disk.
 */
export function resultOf(output: JsonValue, text?: string): AdapterResult {
  const whole = text ?? JSON.stringify(output, null, 2);
  return {
    output,
    text: whole.length > MODEL_TEXT_CHARS ? redactedExcerpt(whole, MODEL_TEXT_CHARS) : whole,
  };
}

/**
 * The signal one remote operation runs under: the run's (cancel, budget, deadline) and its own
 * timeout. `reason()` says which fired, in words the model and the event log can use.
 */
export class CallDeadline {
  readonly signal: AbortSignal;
  private readonly timeout: AbortSignal;

  constructor(
    private readonly what: string,
    private readonly timeoutMs: number,
    private readonly run: AbortSignal | undefined,
  ) {
    this.timeout = AbortSignal.timeout(timeoutMs);
    this.signal = run ? AbortSignal.any([run, this.timeout]) : this.timeout;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  get timedOut(): boolean {
    return this.timeout.aborted && !this.run?.aborted;
  }

  /** The error to fail the call with once the signal fired. */
  error(): Error {
    if (this.timedOut) return new Error(`${this.what} timed out after ${this.timeoutMs} ms`);
    return new Error(`${this.what} was stopped: the run is stopping`);
  }

  /** Runs `operation` under the deadline, failing with the deadline's reason when it fires. */
  async guard<T>(operation: () => Promise<T>): Promise<T> {
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(this.error());
      if (this.signal.aborted) onAbort();
      else this.signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([operation(), aborted]);
    } catch (error) {
      if (this.signal.aborted) throw this.error();
      throw error;
    } finally {
      this.signal.removeEventListener("abort", onAbort);
    }
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
