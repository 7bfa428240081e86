import { readdirSync, readFileSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { join } from "node:path";
import {
  check,
  mustTransition,
  type RunEvent,
  type RunStatus,
  redact,
  runMachine,
} from "../../contract";
import { PRIVATE_FILE_MODE, privateDir, syncDir } from "../state-files";
import { RunRecord } from "./run-record";

/**
 * Run records on disk, one JSON file per run (redacted, 0600), replaced atomically and fsync'd: a record that
 * says a run is running must survive the crash that interrupts it, or it could not be resumed.
 * Status only changes through the run state machine.
 */
export class RunRecords {
  private readonly dir: string;
  private readonly records = new Map<string, RunRecord>();
  /** Writes of one run's file happen one after another. */
  private readonly writes = new Map<string, Promise<unknown>>();

  constructor(stateDir: string) {
    this.dir = privateDir(join(stateDir, "runs"));
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      const parsed = check(RunRecord, safeJson(readFileSync(join(this.dir, name), "utf8")));
      if (parsed.ok) this.records.set(parsed.value.run_id, parsed.value);
      else
        process.stderr.write(
          `auraison edge: ignoring unreadable run record ${name}: ${parsed.issues[0]?.path}: ${parsed.issues[0]?.message}\n`,
        );
    }
  }

  get(runId: string): RunRecord | undefined {
    return this.records.get(runId);
  }

  /** Newest first (run ids are UUIDv7, so they sort by creation). */
  list(): RunRecord[] {
    return [...this.records.values()].sort((a, b) => b.run_id.localeCompare(a.run_id));
  }

  /** Runs this agent was executing when it last stopped. */
  interrupted(): RunRecord[] {
    return this.list().filter((r) => r.status === "running");
  }

  async put(record: RunRecord): Promise<RunRecord> {
    this.records.set(record.run_id, record);
    const previous = this.writes.get(record.run_id) ?? Promise.resolve();
    const write = previous.then(() => this.write(record));
    this.writes.set(
      record.run_id,
      write.catch(() => undefined),
    );
    await write;
    return record;
  }

  private async write(record: RunRecord): Promise<void> {
    const file = join(this.dir, `${record.run_id}.json`);
    const tmp = `${file}.tmp`;
    const handle = await open(tmp, "w", PRIVATE_FILE_MODE);
    try {
      // On disk the record is redacted (the intent's params, the result); in memory it is not.
      await handle.writeFile(`${JSON.stringify(redact(record), null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    // The rename itself is only durable once the directory is.
    await syncDir(this.dir);
  }

  /** Moves a run along the run machine and saves it with the other changes. */
  async transition(
    runId: string,
    event: RunEvent,
    changes: Partial<Omit<RunRecord, "run_id" | "status">> = {},
  ): Promise<RunRecord> {
    const current = this.records.get(runId);
    if (!current) throw new Error(`no run ${runId} on this agent`);
    const status = mustTransition(runMachine, current.status, event);
    return this.put({ ...current, ...changes, status });
  }

  /**
   * Records how a run ended, as the run's view (its fold) says after its terminal event; the
   * view moved it along the run machine, so the status is one the machine reached.
   */
  async settle(
    runId: string,
    status: RunStatus,
    changes: Partial<Omit<RunRecord, "run_id" | "status">> = {},
  ): Promise<RunRecord> {
    const current = this.records.get(runId);
    if (!current) throw new Error(`no run ${runId} on this agent`);
    return this.put({ ...current, ...changes, status });
  }

  async update(
    runId: string,
    changes: Partial<Omit<RunRecord, "run_id" | "status">>,
  ): Promise<RunRecord> {
    const current = this.records.get(runId);
    if (!current) throw new Error(`no run ${runId} on this agent`);
    return this.put({ ...current, ...changes });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
