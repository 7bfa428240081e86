import { open, readFile, rename } from "node:fs/promises";
import { dirname } from "node:path";
import { PRIVATE_FILE_MODE, SerialWrites, syncDir } from "../state-files";

/**
 * How far central has acknowledged the outbox. Losing an update only means re-sending events
 * central already has (it dedupes by event_id), so it is written atomically but not fsync'd.
 * It names the outbox it counts in (see Outbox.open): a position in another outbox means nothing.
 */
export class AckMark {
  private readonly writes = new SerialWrites();

  private constructor(
    private readonly file: string,
    private value: number,
    private outbox: string | null,
  ) {}

  static async load(file: string): Promise<AckMark> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new AckMark(file, 0, null);
      throw error;
    }
    // An unreadable mark only costs a re-send of what central already deduplicates.
    let value = 0;
    let outbox: string | null = null;
    try {
      const parsed = JSON.parse(text) as { delivered?: unknown; outbox?: unknown };
      if (typeof parsed.delivered === "number" && Number.isInteger(parsed.delivered))
        value = Math.max(0, parsed.delivered);
      if (typeof parsed.outbox === "string") outbox = parsed.outbox;
    } catch {
      value = 0;
    }
    return new AckMark(file, value, outbox);
  }

  get position(): number {
    return this.value;
  }

  /** The id of the outbox the stored mark was written for; null if it names none. */
  get outboxId(): string | null {
    return this.outbox;
  }

  /**
   * From now on the mark counts in `outbox`; unless `keep`, it starts again from 0. A kept mark
   * that named no outbox, or another one, is written again naming this one, durably (fsync'd,
   * its directory too): the outbox's id file is written only after it (Outbox.open).
   */
  bind(outbox: string, keep: boolean): Promise<void> {
    const relabel = keep && this.outbox !== outbox && this.value > 0;
    this.outbox = outbox;
    if (!keep) this.value = 0;
    return relabel ? this.save(true) : this.writes.settled;
  }

  /** Moves the mark forward (never back); writes happen one at a time, newest value wins. */
  advance(position: number): Promise<void> {
    if (position <= this.value) return this.writes.settled;
    this.value = position;
    return this.save();
  }

  private save(durable = false): Promise<void> {
    return this.writes.run(async () => {
      const tmp = `${this.file}.tmp`;
      const handle = await open(tmp, "w", PRIVATE_FILE_MODE);
      try {
        await handle.writeFile(
          `${JSON.stringify({ delivered: this.value, outbox: this.outbox })}\n`,
        );
        if (durable) await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, this.file);
      if (durable) await syncDir(dirname(this.file));
    });
  }
}
