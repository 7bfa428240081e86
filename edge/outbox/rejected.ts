import { open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentEvent, ValidationIssue } from "../../contract";
import { appendDurably, PRIVATE_FILE_MODE, SerialWrites, syncDir } from "../state-files";
import { completeLines } from "./segments";

/**
 * Events central refused for good (for another tenant, older than its dedupe window, invalid
 * there), kept beside the outbox with central's reasons, one JSON line each. Delivery moves past
 * them only once they are here, so none is lost without trace; `edge status` counts them.
 * Test: test/edge/fleet/delivery.test.ts "keeps what central refuses".
 */
export class RejectedEvents {
  private readonly writes = new SerialWrites();

  private constructor(
    readonly path: string,
    /** The event ids kept, so an event refused twice (a batch sent again) is kept once. */
    private readonly ids: Set<string>,
    /** The file is new, or ends in a line a crash cut short: the next write starts a line. */
    private fresh: boolean,
    private torn: boolean,
  ) {}

  static async open(path: string): Promise<RejectedEvents> {
    let text = "";
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const ids = new Set<string>();
    for (const line of completeLines(text)) {
      try {
        const id = (JSON.parse(line) as { event?: { event_id?: unknown } }).event?.event_id;
        if (typeof id === "string") ids.add(id);
      } catch {
        // A line no JSON reader can use counts for nothing; the next write starts a new line.
      }
    }
    return new RejectedEvents(
      path,
      ids,
      text.length === 0,
      text.length > 0 && !text.endsWith("\n"),
    );
  }

  get count(): number {
    return this.ids.size;
  }

  /** Appends the refused events not kept yet, durably (fdatasync'd), one write after another. */
  add(
    entries: readonly { event: AgentEvent; issues: readonly ValidationIssue[] }[],
  ): Promise<void> {
    return this.writes.run(async () => {
      const fresh = entries.filter(({ event }) => !this.ids.has(event.event_id));
      if (fresh.length === 0) return;
      const text = fresh
        .map(({ event, issues }) => `${JSON.stringify({ issues, event })}\n`)
        .join("");
      const file = await open(this.path, "a", PRIVATE_FILE_MODE);
      try {
        // All or none of the lines (a failed write is cut back): delivery sends the batch again,
        // and its first line must not join a piece of itself.
        const size = (await file.stat()).size;
        await appendDurably(file, Buffer.from(this.torn ? `\n${text}` : text), size);
      } finally {
        await file.close();
      }
      if (this.fresh) await syncDir(dirname(this.path));
      this.fresh = false;
      this.torn = false;
      for (const { event } of fresh) this.ids.add(event.event_id);
    });
  }
}
