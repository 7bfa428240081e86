import { Agent, type Connection, type ConnectionContext, type WSMessage } from "agents";
import {
  CONTRACT_VERSION,
  Failure,
  type IngestResult,
  type KeyCreated,
  PATHS,
  type Role,
  type TenantCreated,
} from "../../contract";
import { app as workerApp } from "../app";
import { bearerToken, configuredKeySecret, digestOf } from "../auth/keys";
import { BOOTSTRAP_PRINCIPAL_ID, type Principal } from "../auth/principal";
import { type Database, migrateDatabase, openDatabase } from "../db/database";
import { Scheduler } from "../dispatch/scheduler";
import { Archive } from "../events/archive";
import { EventLog } from "../events/event-log";
import { Ingest } from "../events/ingest";
import { EventReader } from "../events/reader";
import { EventStreams } from "../events/stream";
import { AgentSocket, CLOSE, type SocketState } from "../fleet/agent-socket";
import { AgentStore } from "../fleet/agent-store";
import { Liveness } from "../fleet/liveness";
import type {
  AdmitRequest,
  AdmitResult,
  LeaseGrant,
  SettleBatch,
  SettleRequest,
} from "../gateway/admission";
import { type GatewayModels, TenantGateway } from "../gateway/tenant/tenant-gateway";
import { AuditLog } from "../governance/audit-log";
import { IdempotencyStore } from "../governance/idempotency";
import { KeyStore } from "../governance/key-store";
import { SecretStore } from "../governance/secret-store";
import { TenantRecord } from "../governance/tenant-record";
import { settleBody } from "../http/body";
import { failureResponse } from "../http/errors";
import { createLogger } from "../log";
import { MetricRecorder } from "../metrics/recorder";
import { PlanOwner } from "../plans/plan-owner";
import { PlanTable } from "../plans/plan-table";
import { CentralCallCosts } from "../plans/planners/call-costs";
import { ExternalPddlEndpoint } from "../plans/planners/external-pddl";
import { gatewayCall } from "../plans/planners/gateway-call";
import { ModelPlanner } from "../plans/planners/model";
import { PddlPlanner } from "../plans/planners/pddl";
import { RunOwner } from "../runs/run-owner";
import { RunTable } from "../runs/run-table";
import { spanRecorderOf } from "../tracing/tracing-env";
import type { TenantContext } from "./context";
import { tenantApp } from "./http";
import type { TenantServices } from "./services";
import { Timer } from "./timer";

/** What `createTenant` answers, for the Worker to send on. */
export interface RpcResponse {
  status: number;
  body: string;
}

const app = tenantApp();
const ARCHIVE_RETRY_MS = 60_000;
/** The Agent lifecycle's fallback record of the object's name. */
const NAME_KEY = "__ps_name";

/**
 * One per tenant (`getByName(tenant)`): the durable, stateful core of the fleet. It holds the
 * tenant's keys, agents, intents, runs and event log in SQLite (drizzle, versioned
 * migrations), its edge agents' hibernatable WebSockets, and one Agent schedule for all its
 * timers. HTTP requests arrive from the Worker and are served by the tenant API (tenant/http.ts).
 */
export class TenantAgent extends Agent<Env> {
  static override options = { sendIdentityOnConnect: false };

  private services!: TenantServices;
  private timer!: Timer;
  private socket!: AgentSocket;
  private liveness!: Liveness;
  private archiveStore!: Archive;
  private db!: Database;
  /** Upgrade requests authenticated by the gate, so onConnect does not look the key up again. */
  private readonly upgrades = new WeakMap<Request, Principal>();
  /** After a failed archive pass (R2 unreachable), the next try waits this long. */
  private archiveRetryAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.lifecycle.use({ onWebSocketUpgrade: ({ request }) => this.gate(request) });
  }

  override async onStart(): Promise<void> {
    const tenant = this.name;
    // Local workerd does not give alarm wake-ups `ctx.id.name`; the Agent lifecycle falls back to
    // this stored copy, so a timer that fires after a restart still knows its tenant.
    if ((await this.ctx.storage.get<string>(NAME_KEY)) !== tenant)
      await this.ctx.storage.put(NAME_KEY, tenant);
    const log = createLogger({ tenant, component: "tenant" });
    this.db = openDatabase(this.ctx.storage);
    await migrateDatabase(this.db);
    const record = new TenantRecord(this.db);
    const now = () => this.now();
    const context: TenantContext = {
      tenant,
      db: this.db,
      sql: this.ctx.storage.sql,
      storage: this.ctx.storage,
      archive: this.env.ARCHIVE,
      log,
      now,
      settings: () => record.settings(),
      send: (id, message) => {
        const connection = this.getConnection(id);
        if (!connection) return false;
        try {
          connection.send(JSON.stringify(message));
          return true;
        } catch {
          return false;
        }
      },
      close: (id, code, reason) => {
        try {
          this.getConnection(id)?.close(code, reason);
        } catch (error) {
          log.warn("closing a connection failed", { error });
        }
      },
      rearm: () => this.timer.rearm(),
      traces: spanRecorderOf(
        this.env,
        { "auraison.component": "tenant", "auraison.tenant": tenant },
        { flushAfterMs: 1_000, waitUntil: (flushed) => this.ctx.waitUntil(flushed) },
      ),
    };
    const eventLog = new EventLog(this.ctx.storage, now);
    const runs = new RunTable(this.db, tenant);
    const agents = new AgentStore(this.db);
    const audit = new AuditLog(this.db, now);
    const metrics = new MetricRecorder(this.db, this.ctx.storage.sql);
    const secrets = new SecretStore(this.db, tenant, now, () => this.env.AURAISON_GATEWAY_KEK);
    const owner = new RunOwner(context, runs, agents, eventLog, metrics, secrets);
    const scheduler = new Scheduler(context, runs, agents, owner);
    const ingest = new Ingest(context, eventLog, agents, scheduler);
    const keys = new KeyStore(this.db, tenant, now, () => configuredKeySecret(this.env));
    const plans = new PlanTable(this.db);
    const gateway = new TenantGateway(context, keys, agents, runs, ingest, metrics, this.env);
    // Central's planner calls its own gateway through the Worker's handler, in this isolate.
    const fetchGateway = (request: Request) =>
      Promise.resolve(
        workerApp.fetch(request, this.env, {
          waitUntil: (promise: Promise<unknown>) => this.ctx.waitUntil(promise),
          passThroughOnException: () => {},
          props: {},
        }),
      );
    const externalPddl = new ExternalPddlEndpoint(this.env, tenant);
    const planOwner = new PlanOwner(context, plans, runs, agents, scheduler, eventLog, {
      pddl: new PddlPlanner({
        configured: () => externalPddl.configured(record.settings()),
        solve: (config, request) => externalPddl.solve(config, request),
      }),
      model: new ModelPlanner(
        gatewayCall(fetchGateway, () => gateway.centralKey(), new CentralCallCosts(eventLog)),
      ),
    });
    owner.onChange((life) => planOwner.runChanged(life));
    this.archiveStore = new Archive(this.ctx.storage, this.env.ARCHIVE, tenant, eventLog, now, log);
    const reader = new EventReader(eventLog, this.archiveStore);
    const streams = new EventStreams(reader, log, now, () => this.timer.rearm());
    eventLog.onAppend((records) => streams.publish(records));
    this.liveness = new Liveness(context, agents);
    this.socket = new AgentSocket(context, agents, scheduler, ingest, audit, secrets);
    this.timer = new Timer(this.db, this, () => this.nextDue(), log);
    this.services = {
      ctx: context,
      record,
      keys,
      secrets,
      audit,
      idempotency: new IdempotencyStore(this.db, now),
      agents,
      runs,
      owner,
      scheduler,
      plans,
      planOwner,
      externalPddl,
      log: eventLog,
      ingest,
      reader,
      streams,
      gateway,
      metrics,
      closeKeyConnections: (keyId) => {
        for (const connection of this.getConnections<SocketState>()) {
          if (connection.state?.keyId !== keyId) continue;
          this.socket.closed(connection);
          connection.close(CLOSE.revoked, "key revoked");
        }
        streams.endKey(keyId);
      },
    };
    await this.timer.recover();
    planOwner.recover();
    this.timer.rearm();
  }

  /**
   * Requests come from the Worker with the headers its client chose. Those the agents SDK reads
   * as its own (`x-agents-*`, `x-cf-agents-*`: the lifecycle's props, a sub-agent socket's
   * outer URL) are dropped before the SDK sees them: a malformed props header made it answer 500
   * with its stack, before the tenant API's authentication, and a well-formed one set props.
   * Test: test/central/tenant/tenant-agent.test.ts "SDK headers".
   */
  override fetch(request: Request): Promise<Response> {
    return super.fetch(withoutSdkHeaders(request));
  }

  /**
   * Central has no sub-agents, and a path holding `/sub/<class>/<name>` is answered as any
   * other, through the lifecycle (which starts the object first, when it was evicted) and the
   * tenant API (authentication, role, not found): the SDK's default woke or made a child object
   * of that name, with no key checked, for any caller the Worker let through.
   * Test: test/central/tenant/tenant-agent.test.ts "sub-agent paths".
   */
  override onBeforeSubAgent(request: Request): Promise<Response> {
    return this.lifecycle.fetch(request);
  }

  override onRequest(request: Request): Promise<Response> {
    return Promise.resolve(app.fetch(request, this.services));
  }

  /** Agent connections speak contract/wire.ts only: no SDK protocol frames, no client state. */
  override shouldSendProtocolMessages(): boolean {
    return false;
  }

  override shouldConnectionBeReadonly(): boolean {
    return true;
  }

  override async onConnect(
    connection: Connection<SocketState>,
    ctx: ConnectionContext,
  ): Promise<void> {
    const principal = this.upgrades.get(ctx.request) ?? (await this.authenticate(ctx.request));
    if (principal?.role !== "agent") {
      connection.close(CLOSE.revoked, "unauthorized");
      return;
    }
    connection.setState({ keyId: principal.id, keyApp: principal.app, agentId: null });
  }

  override onMessage(connection: Connection<SocketState>, message: WSMessage): void {
    this.socket.message(connection, message as string | ArrayBuffer);
  }

  override onClose(connection: Connection<SocketState>): void {
    this.socket.closed(connection);
  }

  /**
   * The clock every timed duty reads (leases, deadlines, heartbeats, backoff, archive sealing).
   * Overridden only by the workers tests' entry (test/central/test-worker.ts) to cross a deadline
   * without waiting for it.
   */
  protected now(): number {
    return Date.now();
  }

  /** The tenant timer fired: everything due runs, then the next wake-up is set, whatever failed. */
  async tick(): Promise<void> {
    this.timer.fired();
    const { scheduler, idempotency, record, ctx } = this.services;
    try {
      // Plans first: a plan whose wall time ran out ends (and stops its runs) for that reason,
      // not for its runs' deadlines, which are the plan's.
      this.services.planOwner.processDue();
      scheduler.processDue();
      this.liveness.check();
      idempotency.prune();
      this.services.streams.expire();
      if (this.now() >= this.archiveRetryAt) {
        const archive = record.settings().archive;
        try {
          await this.archiveStore.seal(archive);
          this.archiveStore.prune(archive);
        } catch (error) {
          this.archiveRetryAt = this.now() + ARCHIVE_RETRY_MS;
          ctx.log.error("archive pass failed", { error });
        }
      }
    } catch (error) {
      ctx.log.error("timer pass failed", { error });
    } finally {
      this.timer.rearm();
      await this.timer.settled();
    }
  }

  async health(): Promise<{ ok: true; tenant: string; contract: string }> {
    return { ok: true, tenant: this.name, contract: CONTRACT_VERSION };
  }

  /**
   * RPC from the Worker, which has checked the bootstrap key: creates this tenant and its first
   * admin key. A repeated `requestId` replays the first answer.
   */
  async createTenant(
    input: { tenant: string; name: string | null },
    requestId: string | null,
    bootstrapSecret: string,
  ): Promise<RpcResponse> {
    // A replay must repeat the request: the same tenant and name.
    const bodyDigest = await digestOf(JSON.stringify([input.tenant, input.name]));
    const { record, keys, audit, idempotency, ctx } = this.services;
    const principal: Principal = {
      id: BOOTSTRAP_PRINCIPAL_ID,
      role: "bootstrap",
      app: null,
      secret: bootstrapSecret,
    };
    const path = PATHS.tenants;
    if (requestId) {
      // A refusal here (a reused id, one still in flight) is answered, not thrown: an error
      // crossing the RPC boundary would reach the Worker as a bare 500.
      let begun: Awaited<ReturnType<typeof idempotency.begin>>;
      try {
        begun = await idempotency.begin(principal, requestId, "POST", path, bodyDigest);
      } catch (error) {
        if (!(error instanceof Failure)) throw error;
        const refused = failureResponse(error, requestId);
        return { status: refused.status, body: await refused.text() };
      }
      if (begun.kind === "replay")
        return { status: begun.response.status, body: await begun.response.text() };
    }
    let response: Response;
    if (input.tenant !== this.name) {
      response = failureResponse(
        new Failure(400, "invalid_request", "tenant does not match this object"),
      );
    } else if (record.exists()) {
      response = failureResponse(
        new Failure(409, "conflict", `tenant ${input.tenant} already exists`),
      );
    } else {
      const now = ctx.now();
      record.create(input.tenant, input.name, now);
      let admin: KeyCreated;
      try {
        admin = await keys.create({ role: "admin", name: "initial admin" }, BOOTSTRAP_PRINCIPAL_ID);
      } catch (error) {
        // A retry under the same id may go ahead (the key secret set meanwhile).
        if (requestId) idempotency.abandon(principal, requestId);
        throw error;
      }
      const created: TenantCreated = {
        tenant: input.tenant,
        name: input.name,
        created_at: new Date(now).toISOString(),
        admin_key: admin,
      };
      response = Response.json(created, { status: 201 });
      ctx.log.info("tenant created", { request_id: requestId });
    }
    audit.record({
      principal: BOOTSTRAP_PRINCIPAL_ID,
      role: "bootstrap",
      action: "tenants.create",
      target: input.tenant,
      outcome: response.status === 201 ? "ok" : "error",
      status: response.status,
      requestId,
      detail: input.name ? { name: input.name } : null,
    });
    if (requestId) response = await idempotency.finish(principal, requestId, response);
    return { status: response.status, body: await response.text() };
  }

  /**
   * For parts of central that run in the Worker (the model gateway, mounted under /v1): who a
   * bearer key is in this tenant, or null. The key record here is authoritative.
   */
  async principal(secret: string): Promise<{ id: string; role: Role; app: string | null } | null> {
    const found = await this.authenticate(
      new Request("https://central", { headers: { authorization: `Bearer ${secret}` } }),
    );
    return found && found.role !== "bootstrap"
      ? { id: found.id, role: found.role, app: found.app }
      : null;
  }

  /**
   * For parts of central that run in the Worker: events central observed itself (the gateway's
   * `model_call`s, `source: "central"`) into the tenant's log, validated and redacted like any.
   */
  async recordCentralEvents(events: unknown[]): Promise<IngestResult> {
    const outcome = this.services.ingest.ingest(events, { kind: "central" });
    return { stored: outcome.stored, duplicates: outcome.duplicates, rejected: outcome.rejected };
  }

  /** The model gateway (in the Worker) asks to admit a call: key, route, limits, reservation. */
  async gatewayAdmit(request: AdmitRequest): Promise<AdmitResult> {
    return this.services.gateway.admit(request);
  }

  /** The model gateway reports a finished call: spend, provider health, cache, its event. */
  async gatewaySettle(request: SettleRequest): Promise<void> {
    this.services.gateway.settle(request);
  }

  /** The model gateway (in the Worker) asks for a fresh lease before its current one runs out. */
  async gatewayLease(request: AdmitRequest): Promise<LeaseGrant | null> {
    return this.services.gateway.renewLease(request);
  }

  /** Settlements and lease closes a Worker batched; answers the epoch its leases must have. */
  async gatewaySettleBatch(batch: SettleBatch): Promise<{ epoch: string }> {
    return this.services.gateway.settleBatch(batch);
  }

  /** The aliases and models a key of this tenant may ask the gateway for; null for a bad key. */
  async gatewayModels(secret: string): Promise<GatewayModels | null> {
    return this.services.gateway.models(secret);
  }

  /** Only agent keys of this tenant reach onConnect; everything else is answered here. */
  private async gate(request: Request): Promise<Response | undefined> {
    const url = new URL(request.url);
    const refuse = async (failure: Failure) => {
      await settleBody(request);
      return failureResponse(failure);
    };
    if (url.pathname !== PATHS.agentConnect)
      return refuse(new Failure(404, "not_found", `no WebSocket at ${url.pathname}`));
    // The SDK would let a client pick its connection id or another transport: not here.
    if (url.searchParams.has("_pk") || url.searchParams.has("__agents_transport"))
      return refuse(new Failure(400, "invalid_request", "unexpected query parameters"));
    const principal = await this.authenticate(request);
    if (!principal) return refuse(new Failure(401, "unauthorized", "unknown or revoked API key"));
    if (principal.role !== "agent")
      return refuse(
        new Failure(403, "forbidden", `a ${principal.role} key may not connect as an agent`),
      );
    this.upgrades.set(request, principal);
    return undefined;
  }

  private async authenticate(request: Request): Promise<Principal | null> {
    const secret = bearerToken(request.headers.get("authorization"));
    if (!secret || !this.services.record.exists()) return null;
    return this.services.keys.authenticate(secret);
  }

  private nextDue(): number | null {
    const settings = this.services.record.settings();
    const archive = this.archiveStore.nextDue(settings.archive);
    const due = [
      this.services.runs.nextDue(),
      this.services.plans.nextDue(),
      this.liveness.nextDue(),
      this.services.streams.nextDue(),
      archive === null ? null : Math.max(archive, this.archiveRetryAt),
    ].filter((d): d is number => d !== null);
    return due.length ? Math.min(...due) : null;
  }
}

const SDK_HEADER = /^x-(cf-)?agents-/;

/** The request without the headers the agents SDK takes for its own (see TenantAgent.fetch). */
function withoutSdkHeaders(request: Request): Request {
  const names = [...request.headers.keys()].filter((name) => SDK_HEADER.test(name));
  if (names.length === 0) return request;
  const headers = new Headers(request.headers);
  for (const name of names) headers.delete(name);
  return new Request(request, { headers });
}
