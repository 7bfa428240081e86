import { TenantAgent as PlatformTenantAgent } from "../../central/tenant/tenant-agent";

export { default } from "../../central/index";

/**
 * The Worker the workers tests run: the platform's, with a tenant object whose clock a test can
 * turn forward (`advanceClock` in support.ts), so a test crosses a lease, a deadline or a
 * heartbeat without sleeping through it. Every timed duty reads `now()`; nothing else differs.
 */
export class TenantAgent extends PlatformTenantAgent {
  private skewMs = 0;

  protected override now(): number {
    return Date.now() + this.skewMs;
  }

  /**
   * Moves the clock forward and runs the timer, as its schedule would have at that time; with
   * `timer: false`, before the timer runs (an alarm late, or a request first).
   */
  async advanceClock(ms: number, options: { timer?: boolean } = {}): Promise<void> {
    this.skewMs += ms;
    if (options.timer !== false) await this.tick();
  }
}
