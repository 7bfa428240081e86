import { eq } from "drizzle-orm";
import type { Database } from "../db/database";
import { timer } from "../db/schema";
import type { Logger } from "../log";

/** What the timer needs from the Agent: its scheduler (schedules have one-second precision). */
export interface Scheduler {
  schedule(when: Date, callback: "tick"): Promise<{ id: string }>;
  cancelSchedule(id: string): Promise<boolean>;
  getScheduleById(id: string): Promise<unknown>;
}

/**
 * The tenant's one wake-up: every timed duty (ack deadlines, leases, deadlines, retry backoff,
 * heartbeat checks, archive sealing) is a column in SQLite, and this keeps a single Agent
 * schedule at the earliest of them. Re-arm requests are coalesced per turn of the event loop.
 */
export class Timer {
  private armed: { id: string; at: number } | null | undefined;
  private pending: Promise<void> | null = null;
  private dirty = false;

  constructor(
    private readonly db: Database,
    private readonly scheduler: Scheduler,
    private readonly nextDue: () => number | null,
    private readonly log: Logger,
  ) {}

  /** Coalesced: one computation per burst of changes, and another if more came in meanwhile. */
  rearm(): void {
    this.dirty = true;
    this.pending ??= (async () => {
      try {
        while (this.dirty) {
          this.dirty = false;
          await this.arm();
        }
      } catch (error) {
        this.log.error("timer arm failed", { error });
      } finally {
        this.pending = null;
      }
    })();
  }

  /** Resolves once every requested re-arm has been applied. */
  async settled(): Promise<void> {
    while (this.pending) await this.pending;
  }

  /** The schedule fired and was consumed by the scheduler. */
  fired(): void {
    this.armed = null;
    this.db.delete(timer).where(eq(timer.id, 1)).run();
  }

  /** After a restart: forget a recorded schedule the scheduler no longer has. */
  async recover(): Promise<void> {
    this.load();
    if (this.armed && !(await this.scheduler.getScheduleById(this.armed.id))) this.fired();
  }

  private async arm(): Promise<void> {
    const due = this.nextDue();
    this.load();
    // Round up: a schedule fires at its whole second, and firing early would find nothing due.
    const at = due === null ? null : Math.ceil(due / 1000) * 1000;
    if (at === null || (this.armed && this.armed.at <= at)) return;
    if (this.armed) await this.scheduler.cancelSchedule(this.armed.id);
    const schedule = await this.scheduler.schedule(new Date(at), "tick");
    this.armed = { id: schedule.id, at };
    this.db
      .insert(timer)
      .values({ id: 1, scheduleId: schedule.id, at })
      .onConflictDoUpdate({ target: timer.id, set: { scheduleId: schedule.id, at } })
      .run();
  }

  private load(): void {
    if (this.armed !== undefined) return;
    const row = this.db.select().from(timer).where(eq(timer.id, 1)).get();
    this.armed = row ? { id: row.scheduleId, at: row.at } : null;
  }
}
