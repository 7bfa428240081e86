import { open, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { AgentEvent, ValidationIssue } from "../../contract";
import { PRIVATE_FILE_MODE, syncDir } from "../state-files";

/**
 * Events central refused for good (for another tenant, older than its dedupe window, invalid
 * there), kept beside the outbox with central's reasons, one JSON line each. Delivery moves past
 * them only once they are here, so none is lost without trace; `edge status` counts them.
 * Test: test/edge/fleet/delivery.test.ts "keeps what central refuses".
 */
export class RejectedEvents {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private lines: number,
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
    const lines = text.split("\n").filter((l) => l.length > 0).length;
    return new RejectedEvents(
      path,
      lines,
      text.length === 0,
      text.length > 0 && !text.endsWith("\n"),
    );
  }

  get count(): number {
    return this.lines;
  }

  /** Appends the refused events durably (fdatasync'd); each write after the one before it. */
  add(
    entries: readonly { event: AgentEvent; issues: readonly ValidationIssue[] }[],
  ): Promise<void> {
    const text = entries
      .map(({ event, issues }) => `${JSON.stringify({ issues, event })}\n`)
      .join("");
    const write = this.writing
      .catch(() => undefined)
      .then(async () => {
        const file = await open(this.path, "a", PRIVATE_FILE_MODE);
        try {
          await file.appendFile(this.torn ? `\n${text}` : text);
          await file.datasync();
        } finally {
          await file.close();
        }
        if (this.fresh) await syncDir(dirname(this.path));
        this.fresh = false;
        this.torn = false;
        this.lines += entries.length;
      });
    this.writing = write;
    return write;
  }
}
