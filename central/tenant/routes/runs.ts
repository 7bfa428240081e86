import {
  CancelRequest,
  canonicalJson,
  check,
  Failure,
  ForkRequest,
  type Intent,
  IntentAccepted,
  IntentId,
  IntentInfo,
  IntentList,
  IntentRequest,
  IntentsQuery,
  LIMITS,
  PATHS,
  RunId,
  RunList,
  RunState,
  RunsQuery,
  runStateOf,
  traceContextOf,
  uuidv7,
  type WaitingView,
} from "../../../contract";
import { body, errors, id, json, READERS, WRITERS } from "../../api/route";
import { digestOf } from "../../auth/keys";
import type { Principal } from "../../auth/principal";
import { readQuery } from "../../http/body";
import { notFound } from "../../http/errors";
import { newIntent } from "../../runs/new-intent";
import { iso } from "../context";
import type { TenantServices } from "../services";
import { audited, bodyJson, type TenantContextHono, type TenantRoute, tenantRoute } from "./types";

export const runRoutes: TenantRoute[] = [
  tenantRoute(
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
    async (c) => {
      const request = bodyJson(c, IntentRequest);
      const s = c.env;
      const digest = await digestOf(canonicalJson(request));
      if (request.idempotency_key !== undefined) {
        const earlier = s.runs.intentByKey(request.idempotency_key);
        if (earlier) {
          if (earlier.requestDigest !== null && earlier.requestDigest !== digest)
            throw new Failure(
              409,
              "conflict",
              `idempotency_key '${request.idempotency_key}' was already used for a different intent (${earlier.intentId}); a retry must send the same request`,
            );
          audited(c, earlier.intentId, { duplicate: true });
          return c.json(accepted(s, earlier.intent, true), 200);
        }
      }
      const now = s.ctx.now();
      if (request.deadline !== undefined && Date.parse(request.deadline) <= now)
        throw new Failure(422, "unprocessable", "the deadline has already passed", {
          issues: [
            {
              path: "deadline",
              expected: `a time after ${iso(now)}`,
              message: "the deadline has already passed",
              code: "too_small",
            },
          ],
        });
      if (request.fork_of !== undefined && !s.runs.get(request.fork_of.run_id))
        throw notFound(`run ${request.fork_of.run_id} (fork_of)`);
      const intent = newIntent(
        {
          type: request.type,
          params: request.params,
          targets: request.targets,
          budget: request.budget,
          allowed_tools: request.allowed_tools,
          idempotency_key: request.idempotency_key,
          deadline: request.deadline,
          fork_of: request.fork_of,
        },
        s.ctx.tenant,
        c.get("principal").id,
        now,
      );
      return c.json(submit(c, intent, digest), 201);
    },
  ),
  tenantRoute(
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
    async (c) => {
      const id = pathId(c, IntentId, "intent");
      const { reason } = bodyJson(c, CancelRequest, { empty: {} });
      const run = c.env.runs.runOfIntent(id);
      if (!run) throw notFound(`intent ${id}`);
      return c.json(cancel(c, run.run_id, reason));
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "listIntents",
      method: "get",
      path: PATHS.intents,
      tags: ["intents"],
      summary: "Intents, newest first, each with its status and run",
      request: { query: IntentsQuery },
      responses: { 200: json(IntentList, "Intents"), ...errors(400, 401, 403) },
    },
    (c) => {
      return c.json(
        c.env.runs.listIntents(readQuery(new URL(c.req.url), IntentsQuery), waitingView(c.env)),
      );
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "getIntent",
      method: "get",
      path: `${PATHS.intents}/{id}`,
      tags: ["intents"],
      summary: "One intent, with its status and run",
      request: { params: id(IntentId) },
      responses: { 200: json(IntentInfo, "Intent"), ...errors(401, 403, 404) },
    },
    (c) => {
      const id = pathId(c, IntentId, "intent");
      const row = c.env.runs.intent(id);
      if (!row) throw notFound(`intent ${id}`);
      return c.json(c.env.runs.intentInfo(row, waitingView(c.env)));
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "listRuns",
      method: "get",
      path: PATHS.runs,
      tags: ["runs"],
      summary: "Runs, newest first",
      request: { query: RunsQuery },
      responses: { 200: json(RunList, "Runs"), ...errors(400, 401, 403) },
    },
    (c) => {
      return c.json(c.env.runs.list(readQuery(new URL(c.req.url), RunsQuery), waitingView(c.env)));
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "getRun",
      method: "get",
      path: `${PATHS.runs}/{id}`,
      tags: ["runs"],
      summary: "One run",
      request: { params: id(RunId) },
      responses: { 200: json(RunState, "Run"), ...errors(400, 401, 403, 404) },
    },
    (c) => {
      const id = pathId(c, RunId, "run");
      const run = c.env.runs.get(id);
      if (!run) throw notFound(`run ${id}`);
      return c.json(runStateOf(run, waitingView(c.env)));
    },
  ),
  tenantRoute(
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
    async (c) => {
      const id = pathId(c, RunId, "run");
      const { reason } = bodyJson(c, CancelRequest, { empty: {} });
      return c.json(cancel(c, id, reason));
    },
  ),
  tenantRoute(
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
    async (c) => {
      const id = pathId(c, RunId, "run");
      const request = bodyJson(c, ForkRequest, { empty: {} });
      const s = c.env;
      const original = s.runs.get(id);
      if (!original) throw notFound(`run ${id}`);
      const source = original.intent_id ? s.runs.intent(original.intent_id)?.intent : undefined;
      if (!original.agent_id || !source)
        throw new Failure(
          409,
          "conflict",
          `run ${id} never reached an agent, so it has no session to fork`,
        );
      // The agent would only find out after dispatch; refuse an entry the run never had now.
      const host = request.entry_id ? s.log.entryAgent(id, request.entry_id) : null;
      if (host === false)
        throw new Failure(
          400,
          "invalid_request",
          `run ${id} has no session entry ${request.entry_id} (its events name its entries: auraison runs events ${id})`,
          {
            issues: [
              {
                path: "entry_id",
                expected: `an entry of run ${id}'s session tree`,
                message: "no such entry in this run",
                code: "invalid_value",
              },
            ],
          },
        );
      const intent = newIntent(
        {
          type: source.type,
          params: request.prompt ? { ...source.params, prompt: request.prompt } : source.params,
          // The session tree lives on the host of the agent that wrote the entry (an earlier
          // attempt's, perhaps), else on the latest attempt's.
          targets: [{ agent_id: host || original.agent_id }],
          budget: source.policy_ctx.budget,
          allowed_tools: source.policy_ctx.allowed_tools,
          fork_of: { run_id: id, ...(request.entry_id ? { entry_id: request.entry_id } : {}) },
        },
        s.ctx.tenant,
        c.get("principal").id,
        s.ctx.now(),
      );
      return c.json(submit(c, intent), 201);
    },
  ),
];

function submit(
  c: TenantContextHono,
  submitted: Intent,
  requestDigest: string | null = null,
): IntentAccepted {
  const s = c.env;
  // The caller's W3C trace, if it sent one (`traceparent`): the run's spans continue it.
  const trace = traceContextOf(c.req.raw.headers);
  const intent: Intent = trace ? { ...submitted, trace } : submitted;
  const principal: Principal = c.get("principal");
  const run = s.runs.create(intent, principal.id, s.ctx.now(), uuidv7(), {
    settings: s.ctx.settings(),
    requestDigest,
  });
  s.scheduler.tryDispatch(run);
  const now = s.runs.get(run.run_id)!;
  audited(c, intent.intent_id, { run_id: run.run_id, status: now.status });
  return { intent, run: runStateOf(now, waitingView(s)), duplicate: false };
}

function accepted(s: TenantServices, intent: Intent, duplicate: boolean): IntentAccepted {
  const run = s.runs.runOfIntent(intent.intent_id)!;
  return { intent, run: runStateOf(run, waitingView(s)), duplicate };
}

function cancel(c: TenantContextHono, runId: string, reason: string | undefined) {
  const s = c.env;
  const run = s.runs.get(runId);
  if (!run) throw notFound(`run ${runId}`);
  const principal = c.get("principal");
  s.scheduler.cancel(runId, reason ?? `cancelled by ${principal.id}`, principal.id);
  audited(c, runId, { reason: reason ?? null });
  return runStateOf(s.runs.get(runId)!, waitingView(s));
}

/** What a queued run's `waiting` is told from: the time and the tenant's queue timeout. */
function waitingView(s: TenantServices): WaitingView {
  return { now: s.ctx.now(), queue_timeout_ms: s.ctx.settings().dispatch.queue_timeout_ms };
}

/** A path id that is not even well-formed cannot exist: 404, like any unknown id. */
function pathId(c: TenantContextHono, schema: typeof RunId, what: string): string {
  const id = c.req.param("id")!;
  if (!check(schema, id).ok) throw notFound(`${what} ${id}`);
  return id;
}
