import { readFile, rename, writeFile } from "node:fs/promises";
import { PRIVATE_FILE_MODE } from "../state-files";

/**
 * How far central has acknowledged the outbox. Losing an update only means re-sending events
 * central already has (it dedupes by event_id), so it is written atomically but not fsync'd.
 */
export class AckMark {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private value: number,
  ) {}

  static async load(file: string): Promise<AckMark> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new AckMark(file, 0);
      throw error;
    }
    // An unreadable mark only costs a re-send of what central already deduplicates.
    let value = 0;
    try {
      const parsed = JSON.parse(text) as { delivered?: unknown };
      if (typeof parsed.delivered === "number" && Number.isInteger(parsed.delivered))
        value = Math.max(0, parsed.delivered);
    } catch {
      value = 0;
    }
    return new AckMark(file, value);
  }

  get position(): number {
    return this.value;
  }

  /** Moves the mark forward (never back); writes happen one at a time, newest value wins. */
  advance(position: number): Promise<void> {
    if (position <= this.value) return this.writing;
    this.value = position;
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ delivered: this.value })}\n`, {
        mode: PRIVATE_FILE_MODE,
      });
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}
