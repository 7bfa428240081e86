import type { Scheduler } from "../dispatch/scheduler";
import type { EventLog } from "../events/event-log";
import type { Ingest } from "../events/ingest";
import type { EventReader } from "../events/reader";
import type { EventStreams } from "../events/stream";
import type { AgentStore } from "../fleet/agent-store";
import type { TenantGateway } from "../gateway/tenant/tenant-gateway";
import type { AuditLog } from "../governance/audit-log";
import type { IdempotencyStore } from "../governance/idempotency";
import type { KeyStore } from "../governance/key-store";
import type { SecretStore } from "../governance/secret-store";
import type { TenantRecord } from "../governance/tenant-record";
import type { MetricRecorder } from "../metrics/recorder";
import type { PlanOwner } from "../plans/plan-owner";
import type { PlanTable } from "../plans/plan-table";
import type { ExternalPddlEndpoint } from "../plans/planners/external-pddl";
import type { RunOwner } from "../runs/run-owner";
import type { RunTable } from "../runs/run-table";
import type { TenantContext } from "./context";

/** The tenant Durable Object's parts, as its HTTP routes see them. */
export interface TenantServices {
  ctx: TenantContext;
  record: TenantRecord;
  keys: KeyStore;
  /** Tenant secrets for adapters (sealed; handed out only through claim handles). */
  secrets: SecretStore;
  audit: AuditLog;
  idempotency: IdempotencyStore;
  agents: AgentStore;
  runs: RunTable;
  owner: RunOwner;
  scheduler: Scheduler;
  plans: PlanTable;
  /** Carries out what the plan fold decides (contract/plans). */
  planOwner: PlanOwner;
  /** The external PDDL planner large problems go to, and the rules its settings obey. */
  externalPddl: ExternalPddlEndpoint;
  log: EventLog;
  ingest: Ingest;
  reader: EventReader;
  streams: EventStreams;
  /** The model gateway's admission, settlement, configuration and status. */
  gateway: TenantGateway;
  /** Counters and histograms recorded as things happen (the rest of /metrics is read from state). */
  metrics: MetricRecorder;
  /**
   * What revoking a key ends: every agent socket and event stream opened with it, or with one of
   * its sessions.
   */
  closeKeyConnections(keyId: string): void;
}
