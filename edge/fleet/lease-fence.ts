import { type Clock, systemClock } from "../timers";

/**
 * Stops acting for a central run whose lease ran out unrenewed. Central dispatches such a run
 * again (to another agent, when one serves it), so an agent cut off from central must not go on
 * moving a robot or a cluster for it: `onLapse` checkpoints the run, which resumes from its
 * session if central dispatches it here again. A renewal (`claimed`, then `lease` frames that
 * answer heartbeats) moves the deadline. The deadline is central's time read on this host's
 * clock: a clock behind central's stops that much late. Tests: test/edge/fleet/lease-fence.test.ts,
 * and "stops a central run whose lease ran out unrenewed" in test/edge/fleet/link.test.ts.
 */
export class LeaseFence {
  private readonly held = new Map<string, { attempt: number; timer: unknown }>();

  constructor(
    private readonly onLapse: (runId: string, attempt: number) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The run attempt's lease now ends at `expiresAt`; an older attempt's renewal is ignored. */
  hold(runId: string, attempt: number, expiresAt: string): void {
    const current = this.held.get(runId);
    if (current && current.attempt > attempt) return;
    if (current) this.clock.clear(current.timer);
    const timer = this.clock.set(
      () => {
        if (this.held.get(runId)?.timer !== timer) return;
        this.held.delete(runId);
        this.onLapse(runId, attempt);
      },
      Math.max(0, Date.parse(expiresAt) - this.clock.now()),
    );
    this.held.set(runId, { attempt, timer });
  }

  /** The attempt ended or was stopped: its lease no longer matters here. */
  release(runId: string, attempt: number): void {
    const current = this.held.get(runId);
    if (current?.attempt !== attempt) return;
    this.clock.clear(current.timer);
    this.held.delete(runId);
  }

  /** Whether the run attempt's lease is held and has not run out. */
  holds(runId: string, attempt: number): boolean {
    return this.held.get(runId)?.attempt === attempt;
  }

  close(): void {
    for (const { timer } of this.held.values()) this.clock.clear(timer);
    this.held.clear();
  }
}
