import type { CentralMessage, TenantSettings } from "../../contract";
import type { Database } from "../db/database";
import type { Logger } from "../log";
import type { SpanRecorder } from "../tracing/recorder";

/** What every part of the tenant Durable Object shares: storage, clock, settings, sockets. */
export interface TenantContext {
  readonly tenant: string;
  readonly db: Database;
  readonly sql: SqlStorage;
  readonly storage: DurableObjectStorage;
  readonly archive: R2Bucket;
  readonly log: Logger;
  /** Central's own spans (queue, dispatch), when an OTLP endpoint is configured. */
  readonly traces?: SpanRecorder | null;
  now(): number;
  settings(): TenantSettings;
  /** Sends a wire message to one agent connection; false when it is gone. */
  send(connectionId: string, message: CentralMessage): boolean;
  close(connectionId: string, code: number, reason: string): void;
  /** Asks for the tenant's single timer to be re-armed after state changed. */
  rearm(): void;
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : iso(ms);
