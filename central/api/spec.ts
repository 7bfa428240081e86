import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import {
  AgentId,
  AgentInfo,
  AgentList,
  ApiError,
  AuditList,
  AuditQuery,
  CancelRequest,
  EventStreamQuery,
  EventsPage,
  EventsQuery,
  ForkRequest,
  GatewayConfig,
  GatewayConfigView,
  GatewayStatus,
  Health,
  IngestRequest,
  IngestResult,
  IntentAccepted,
  IntentId,
  IntentInfo,
  IntentList,
  IntentRequest,
  IntentsQuery,
  KeyCreated,
  KeyCreateRequest,
  KeyInfo,
  KeyList,
  LIMITS,
  PATHS,
  RequestId,
  type Role,
  RunId,
  RunList,
  RunState,
  RunsQuery,
  StoredEvent,
  TenantCreated,
  TenantCreateRequest,
  TenantSettings,
} from "../../contract";
import { GATEWAY_ROUTES } from "../gateway/routes";
import { GATEWAY_CONFIG_LIMIT } from "../gateway/tenant/admin-routes";
import { DEFAULT_BODY_LIMIT } from "../http/body";

/**
 * Every route of central's platform API, in one place: method, path, schemas (the contract's),
 * who may call it, and what the audit log calls it. The Worker serves the `worker` routes; the
 * tenant Durable Object mounts the `tenant` ones by operationId; /openapi.json is generated from
 * this list, so a route cannot exist undocumented.
 */
export type Access = "public" | "bootstrap" | readonly Role[];

export interface RouteSpec {
  route: RouteConfig & { operationId: string };
  access: Access;
  /** Where it is served: the Worker itself or the tenant's Durable Object. */
  served: "worker" | "tenant";
  /** Mutating routes name their audit action (and honour `x-request-id` replays). */
  action?: string;
  /** Largest accepted body, in bytes. */
  bodyLimit?: number;
}

const READERS = ["admin", "operator", "viewer"] as const satisfies readonly Role[];
const WRITERS = ["admin", "operator"] as const satisfies readonly Role[];
const ADMIN = ["admin"] as const satisfies readonly Role[];
const AGENT = ["agent"] as const satisfies readonly Role[];

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const body = (schema: z.ZodType, required = true) => ({
  body: { required, content: { "application/json": { schema } } },
});

const ERROR_TEXT: Record<number, string> = {
  400: "Invalid input: malformed JSON, a wrong type or an unknown field (issues name each path)",
  401: "Missing, malformed, unknown or revoked API key",
  403: "The key's role may not call this route",
  404: "No such resource in this tenant",
  409: "Conflicts with the current state, or an x-request-id replayed with another body or while still in flight",
  413: "Request body over the size limit",
  415: "Request body is not JSON",
  422: "Matches the schema, but refused: a rule between fields, a deadline already past, a provider URL or secret this platform does not allow",
  503: "Not configured",
};
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, json(ApiError, ERROR_TEXT[c]!)]));

const id = (schema: z.ZodType) => z.object({ id: schema });
const keyId = z.string().min(1).max(64);
const requestIdHeader = z.object({ "x-request-id": RequestId.optional() });

function spec(
  served: RouteSpec["served"],
  access: Access,
  route: RouteConfig & { operationId: string },
  extra: Pick<RouteSpec, "action" | "bodyLimit"> = {},
): RouteSpec {
  const roles = access === "public" ? [] : access === "bootstrap" ? ["bootstrap"] : [...access];
  const who =
    access === "public"
      ? "No key needed."
      : access === "bootstrap"
        ? "Platform bootstrap key only."
        : `Roles: ${roles.join(", ")}.`;
  // A mutating route takes x-request-id: a malformed one is a 400, a reused one may be a 409.
  const responses = extra.action ? { ...errors(400, 409), ...route.responses } : route.responses;
  const decorated = createRoute({
    ...route,
    responses,
    description: `${route.description ?? ""}${route.description ? "\n\n" : ""}${who}`,
    ...(access === "public" ? { security: [] } : { security: [{ bearer: [] }] }),
    "x-auraison-roles": roles,
    ...(extra.action ? { "x-auraison-audit": extra.action } : {}),
    request: extra.action ? { ...route.request, headers: requestIdHeader } : route.request,
  });
  return { route: decorated, access, served, ...extra };
}

export const ROUTES: readonly RouteSpec[] = [
  spec("worker", "public", {
    operationId: "health",
    method: "get",
    path: PATHS.health,
    tags: ["system"],
    summary: "Liveness: the Worker answers after reaching a Durable Object",
    responses: { 200: json(Health, "Up") },
  }),
  spec("worker", "public", {
    operationId: "openapi",
    method: "get",
    path: PATHS.openapi,
    tags: ["system"],
    summary: "This document",
    responses: { 200: json(z.record(z.string(), z.unknown()), "OpenAPI 3.1 document") },
  }),
  spec(
    "worker",
    "bootstrap",
    {
      operationId: "createTenant",
      method: "post",
      path: PATHS.tenants,
      tags: ["platform"],
      summary: "Create a tenant and its first admin key (shown once)",
      request: body(TenantCreateRequest),
      responses: {
        201: json(TenantCreated, "Created"),
        ...errors(400, 401, 403, 409, 413, 415, 503),
      },
    },
    { action: "tenants.create" },
  ),
  spec(
    "tenant",
    ADMIN,
    {
      operationId: "createKey",
      method: "post",
      path: PATHS.keys,
      tags: ["keys"],
      summary: "Create an API key; its secret is returned once",
      request: body(KeyCreateRequest),
      responses: { 201: json(KeyCreated, "Created"), ...errors(400, 401, 403, 409, 413, 415) },
    },
    { action: "keys.create" },
  ),
  spec("tenant", ADMIN, {
    operationId: "listKeys",
    method: "get",
    path: PATHS.keys,
    tags: ["keys"],
    summary: "List keys (never their secrets)",
    responses: { 200: json(KeyList, "Keys"), ...errors(401, 403) },
  }),
  spec(
    "tenant",
    ADMIN,
    {
      operationId: "revokeKey",
      method: "delete",
      path: `${PATHS.keys}/{id}`,
      tags: ["keys"],
      summary: "Revoke a key; requests and agent connections using it stop now",
      request: { params: id(keyId) },
      responses: { 200: json(KeyInfo, "Revoked"), ...errors(401, 403, 404, 409) },
    },
    { action: "keys.revoke" },
  ),
  spec("tenant", ADMIN, {
    operationId: "listAudit",
    method: "get",
    path: PATHS.audit,
    tags: ["keys"],
    summary: "The audit log, newest first",
    request: { query: AuditQuery },
    responses: { 200: json(AuditList, "Entries"), ...errors(400, 401, 403) },
  }),
  spec("tenant", ADMIN, {
    operationId: "getSettings",
    method: "get",
    path: PATHS.settings,
    tags: ["settings"],
    summary: "Timings, retry policy and archive settings",
    responses: { 200: json(TenantSettings, "Settings"), ...errors(401, 403) },
  }),
  spec(
    "tenant",
    ADMIN,
    {
      operationId: "putSettings",
      method: "put",
      path: PATHS.settings,
      tags: ["settings"],
      summary: "Replace the settings (omitted fields take their defaults)",
      request: body(TenantSettings),
      responses: { 200: json(TenantSettings, "Settings"), ...errors(400, 401, 403, 413, 415) },
    },
    { action: "settings.update" },
  ),
  spec("tenant", READERS, {
    operationId: "listAgents",
    method: "get",
    path: PATHS.agents,
    tags: ["agents"],
    summary: "Edge agents with status, current runs and last heartbeat",
    responses: { 200: json(AgentList, "Agents"), ...errors(401, 403) },
  }),
  spec("tenant", AGENT, {
    operationId: "connectAgent",
    method: "get",
    path: PATHS.agentConnect,
    tags: ["agents"],
    summary: "WebSocket for an edge agent (messages: contract/wire.ts; the first is `hello`)",
    description:
      "Upgrade with `Authorization: Bearer <agent key>`. An app-scoped key registers only agents of its app.",
    responses: {
      101: { description: "Switching protocols" },
      426: json(ApiError, "Not a WebSocket upgrade"),
      ...errors(401, 403),
    },
  }),
  spec("tenant", READERS, {
    operationId: "getAgent",
    method: "get",
    path: `${PATHS.agents}/{id}`,
    tags: ["agents"],
    summary: "One edge agent",
    request: { params: id(AgentId) },
    responses: { 200: json(AgentInfo, "Agent"), ...errors(401, 403, 404) },
  }),
  spec(
    "tenant",
    WRITERS,
    {
      operationId: "submitIntent",
      method: "post",
      path: PATHS.intents,
      tags: ["intents"],
      summary: "Submit an intent; it is dispatched to an eligible agent or queued",
      description:
        "Answers 201 for a new intent and 200 when `idempotency_key` matched an earlier one.",
      request: body(IntentRequest),
      responses: {
        201: json(IntentAccepted, "Accepted"),
        200: json(IntentAccepted, "Already submitted with this idempotency_key"),
        ...errors(400, 401, 403, 404, 409, 413, 415, 422),
      },
    },
    { action: "intents.submit", bodyLimit: LIMITS.intentBytes },
  ),
  spec("tenant", READERS, {
    operationId: "listIntents",
    method: "get",
    path: PATHS.intents,
    tags: ["intents"],
    summary: "Intents, newest first, each with its status and run",
    request: { query: IntentsQuery },
    responses: { 200: json(IntentList, "Intents"), ...errors(400, 401, 403) },
  }),
  spec("tenant", READERS, {
    operationId: "getIntent",
    method: "get",
    path: `${PATHS.intents}/{id}`,
    tags: ["intents"],
    summary: "One intent, with its status and run",
    request: { params: id(IntentId) },
    responses: { 200: json(IntentInfo, "Intent"), ...errors(401, 403, 404) },
  }),
  spec(
    "tenant",
    WRITERS,
    {
      operationId: "cancelIntent",
      method: "post",
      path: `${PATHS.intents}/{id}/cancel`,
      tags: ["intents"],
      summary: "Cancel an intent's run (a running one is stopped on its edge agent)",
      request: { params: id(IntentId), ...body(CancelRequest, false) },
      responses: { 200: json(RunState, "Cancelled"), ...errors(400, 401, 403, 404, 409, 413, 415) },
    },
    { action: "intents.cancel" },
  ),
  spec("tenant", READERS, {
    operationId: "listRuns",
    method: "get",
    path: PATHS.runs,
    tags: ["runs"],
    summary: "Runs, newest first",
    request: { query: RunsQuery },
    responses: { 200: json(RunList, "Runs"), ...errors(400, 401, 403) },
  }),
  spec("tenant", READERS, {
    operationId: "getRun",
    method: "get",
    path: `${PATHS.runs}/{id}`,
    tags: ["runs"],
    summary: "One run",
    request: { params: id(RunId) },
    responses: { 200: json(RunState, "Run"), ...errors(400, 401, 403, 404) },
  }),
  spec(
    "tenant",
    WRITERS,
    {
      operationId: "cancelRun",
      method: "post",
      path: `${PATHS.runs}/{id}/cancel`,
      tags: ["runs"],
      summary: "Cancel a run (a running one is stopped on its edge agent)",
      request: { params: id(RunId), ...body(CancelRequest, false) },
      responses: { 200: json(RunState, "Cancelled"), ...errors(400, 401, 403, 404, 409, 413, 415) },
    },
    { action: "runs.cancel" },
  ),
  spec(
    "tenant",
    WRITERS,
    {
      operationId: "forkRun",
      method: "post",
      path: `${PATHS.runs}/{id}/fork`,
      tags: ["runs"],
      summary: "Start a new run from a point in this run's session tree, on the same agent",
      request: { params: id(RunId), ...body(ForkRequest, false) },
      responses: {
        201: json(IntentAccepted, "Forked"),
        ...errors(400, 401, 403, 404, 409, 413, 415),
      },
    },
    { action: "runs.fork" },
  ),
  spec("tenant", READERS, {
    operationId: "listEvents",
    method: "get",
    path: PATHS.events,
    tags: ["events"],
    summary: "Page through the event log in cursor order (R2 archive and SQLite, seamlessly)",
    request: { query: EventsQuery },
    responses: { 200: json(EventsPage, "Events"), ...errors(400, 401, 403) },
  }),
  spec("tenant", READERS, {
    operationId: "streamEvents",
    method: "get",
    path: PATHS.eventStream,
    tags: ["events"],
    summary:
      "Live Server-Sent Events (`event: event`, `id: <cursor>`): from `Last-Event-ID`, else `after`, else only new events",
    request: {
      query: EventStreamQuery,
      headers: z.object({ "last-event-id": z.string().optional() }),
    },
    responses: {
      200: {
        description: "A text/event-stream of StoredEvents",
        content: { "text/event-stream": { schema: z.string(), itemSchema: StoredEvent } },
      },
      ...errors(400, 401, 403),
    },
  }),
  spec(
    "tenant",
    AGENT,
    {
      operationId: "ingestEvents",
      method: "post",
      path: PATHS.events,
      tags: ["events"],
      summary: "Ingest a batch of AgentEvents (deduplicated by event_id; bad ones reported)",
      request: body(IngestRequest),
      responses: { 200: json(IngestResult, "Ingested"), ...errors(400, 401, 403, 413, 415) },
    },
    { action: "events.ingest", bodyLimit: 16 * DEFAULT_BODY_LIMIT },
  ),
  spec("tenant", ADMIN, {
    operationId: "getGatewayConfig",
    method: "get",
    path: PATHS.gatewayConfig,
    tags: ["gateway"],
    summary: "The model gateway's configuration (provider keys shown only by reference)",
    responses: { 200: json(GatewayConfigView, "Configuration"), ...errors(401, 403) },
  }),
  spec(
    "tenant",
    ADMIN,
    {
      operationId: "putGatewayConfig",
      method: "put",
      path: PATHS.gatewayConfig,
      tags: ["gateway"],
      summary:
        "Replace the model gateway's configuration: providers, aliases, rules, prices, limits, budgets",
      description:
        "Omitted sections take their defaults. A key given as `{ value }` is sealed and never shown again; `{ stored: true }` keeps the stored one.",
      request: body(GatewayConfig),
      responses: {
        200: json(GatewayConfigView, "Configuration"),
        ...errors(400, 401, 403, 409, 413, 415, 422, 503),
      },
    },
    { action: "gateway.config.update", bodyLimit: GATEWAY_CONFIG_LIMIT },
  ),
  spec("tenant", READERS, {
    operationId: "getGatewayStatus",
    method: "get",
    path: PATHS.gatewayStatus,
    tags: ["gateway"],
    summary:
      "Provider health and circuits, budgets, rate windows, the response cache, cost table versions",
    responses: { 200: json(GatewayStatus, "Status"), ...errors(401, 403) },
  }),
  ...GATEWAY_ROUTES.map((r) => spec(r.served, r.access, r.route)),
];
