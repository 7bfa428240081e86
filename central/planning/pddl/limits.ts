/** Why a search stopped without an answer: distinct from "no plan exists". */
export type LimitReason = "deadline" | "expansions" | "states" | "ground-actions" | "aborted";

/** Bounds on a solve, so a Durable Object never blocks for long. */
export interface Limits {
  /** Stop at this time (ms since the epoch, on `now`'s clock). */
  deadline?: number;
  /** Stop after this many state expansions. */
  maxExpansions?: number;
  /**
   * Stop once this many states are stored: a state takes about (facts / 8 + 16) bytes, and a
   * Durable Object has 128 MB for everything.
   */
  maxStates?: number;
  /**
   * Stop once the stored states take about this many bytes: with many facts fewer states fit
   * than `maxStates` allows.
   */
  maxStateBytes?: number;
  /**
   * Stop grounding past this many ground actions (a schema with many free parameters), or past
   * 16 binding steps per allowed action: bindings that fail a check make no action, and inside
   * one schema's joins grounding cannot pause, so in workerd (whose clock stands still during
   * synchronous work) only this count bounds it.
   */
  maxGroundActions?: number;
  signal?: AbortSignal;
  /** The clock; injected so tests need not wait. */
  now?: () => number;
}

/** Thrown out of grounding and search when a limit is reached. */
export class LimitReached extends Error {
  constructor(readonly reason: LimitReason) {
    super(`no plan within the limits (${reason})`);
    this.name = "LimitReached";
  }
}

/** Counts expansions and checks the clock and the signal now and then. */
export class Budget {
  expansions = 0;
  /** A stored state's size, known once the task is grounded. */
  stateBytes = 0;
  private readonly now: () => number;

  constructor(private readonly limits: Limits = {}) {
    this.now = limits.now ?? Date.now;
  }

  /** Called once per expansion with the states stored; throws LimitReached at a limit. */
  expand(stored: number): void {
    if (this.limits.maxExpansions !== undefined && this.expansions >= this.limits.maxExpansions)
      throw new LimitReached("expansions");
    if (this.limits.maxStates !== undefined && stored > this.limits.maxStates)
      throw new LimitReached("states");
    if (
      this.limits.maxStateBytes !== undefined &&
      stored * this.stateBytes > this.limits.maxStateBytes
    )
      throw new LimitReached("states");
    this.expansions++;
    if ((this.expansions & 63) === 0) this.check();
  }

  /** Checks the deadline and the signal (cheap enough for every few hundred steps). */
  check(): void {
    if (this.limits.signal?.aborted) throw new LimitReached("aborted");
    if (this.limits.deadline !== undefined && this.now() >= this.limits.deadline)
      throw new LimitReached("deadline");
  }
}
