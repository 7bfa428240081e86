import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import {
  type AgentEvent,
  type AgentEventInput,
  AgentEvent as AgentEventSchema,
  type EventKind,
  type EventPayload,
  parse,
  type StoredEvent,
} from "../../contract";
import {
  DERIVED_TABLES,
  type Lake,
  type LakeLocation,
  type OpenLakeOptions,
  openLake,
  readQuery,
  resolveLakeLocation,
} from "../../lakehouse";

export function tempDir(prefix = "auraison-memory-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh local lake (SQLite catalog, Parquet in a temp dir). */
export function localLake(dir: string = tempDir("auraison-lake-")): LakeLocation {
  return resolveLakeLocation({ dir }, dir, {});
}

export async function withLake<T>(
  location: LakeLocation,
  work: (lake: Lake) => Promise<T>,
  options: OpenLakeOptions = {},
): Promise<T> {
  const lake = await openLake(location, { env: {}, ...options });
  try {
    return await work(lake);
  } finally {
    lake.close();
  }
}

/** Writes NDJSON lines (objects are serialised; strings are written as they are). */
export function writeLog(
  file: string,
  lines: readonly unknown[],
  options: { gzip?: boolean; tail?: string } = {},
): void {
  mkdirSync(dirname(file), { recursive: true });
  const body =
    lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") +
    (lines.length ? "\n" : "") +
    (options.tail ?? "");
  writeFileSync(file, options.gzip ? gzipSync(body) : body);
}

export function withCursors(events: readonly AgentEvent[], first = 1): StoredEvent[] {
  return events.map((e, i) => ({ ...e, cursor: first + i }));
}

/**
 * Rows of a lake table in a canonical order, minus columns that name where or when a row was
 * loaded rather than what it says.
 */
export async function tableRows(
  lake: Lake,
  table: string,
  exclude: readonly string[] = [],
): Promise<Record<string, unknown>[]> {
  const columns = exclude.length ? `* EXCLUDE (${exclude.join(", ")})` : "*";
  return (await readQuery(lake.connection, `SELECT ${columns} FROM memory.${table} ORDER BY ALL`))
    .rows;
}

/** Every derived table plus the log, in canonical order: equal digests mean equal lakes. */
export async function projectionDigest(lake: Lake): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  out.events = await tableRows(lake, "events", ["origin"]);
  for (const table of DERIVED_TABLES) out[table] = await tableRows(lake, table);
  return out;
}

export async function count(lake: Lake, sql: string): Promise<number> {
  return Number((await lake.connection.runAndReadAll(sql)).getRows()[0]![0]);
}

const BASE = Date.parse("2026-06-01T10:00:00.000Z");

/** Builds valid AgentEvents for scripted runs: ids and times advance with each event. */
export class LogBuilder {
  private clock = BASE;
  private readonly seqs = new Map<string, number>();
  readonly events: AgentEvent[] = [];

  constructor(readonly tenant = "lab") {}

  id(offsetMs = 0): string {
    this.clock += 1;
    return uuid7(this.clock + offsetMs);
  }

  add<K extends EventKind>(
    kind: K,
    payload: EventPayload<K> | Record<string, unknown>,
    envelope: {
      run_id?: string | null;
      agent_id?: string;
      attempt?: number | null;
      ms?: number;
    } = {},
  ): AgentEvent {
    this.clock += envelope.ms ?? 10;
    const agent = envelope.agent_id ?? "lab-notes-1";
    const key = `${agent}/${envelope.run_id ?? "-"}`;
    const seq = this.seqs.get(key) ?? 0;
    this.seqs.set(key, seq + 1);
    const input = {
      event_id: uuid7(this.clock),
      tenant: this.tenant,
      run_id: envelope.run_id ?? null,
      agent_id: agent,
      source: agent === "central" ? "central" : "edge",
      seq,
      attempt: envelope.attempt ?? null,
      kind,
      payload,
      ts: new Date(this.clock).toISOString(),
    } as AgentEventInput;
    const event = parse(AgentEventSchema, input, `test event ${kind}`);
    this.events.push(event);
    return event;
  }
}

let counter = 0;
/** A UUIDv7 at `ms`, unique within the test run. */
export function uuid7(ms: number): string {
  counter += 1;
  const time = ms.toString(16).padStart(12, "0");
  const rand = counter.toString(16).padStart(15, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${rand.slice(0, 3)}-8${rand.slice(3, 6)}-${rand.slice(6)}000`;
}
