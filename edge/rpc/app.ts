import { Hono } from "hono";
import type { z } from "zod";
import {
  type AgentEvent,
  apiErrorBody,
  check,
  Failure,
  isRunTerminalKind,
  type ValidationIssue,
} from "../../contract";
import { CapacityError } from "../runs/run-manager";
import type { RunRecord } from "../runs/run-record";
import type { EdgeRuntime } from "../runtime";
import { type AgentHealth, LocalCancelRequest, LocalForkRequest, LocalRunRequest } from "./schemas";

/**
 * The local RPC a running agent serves on `<state>/edge.sock`: health, start a run, list and
 * get runs, follow a run's events (NDJSON), cancel and fork. Same error shape as central's API.
 */
export function rpcApp(runtime: EdgeRuntime, health: () => AgentHealth): Hono {
  const app = new Hono();

  app.get("/health", (c) => c.json(health()));

  app.get("/runs", (c) => {
    const limit = Math.min(500, Math.max(1, Number(c.req.query("limit") ?? 50) || 50));
    return c.json({ runs: runtime.runs.list().slice(0, limit) });
  });

  app.post("/runs", async (c) => {
    const parsed = await body(c.req.raw, LocalRunRequest);
    if (!parsed.ok) return invalid(c.json.bind(c), parsed.issues);
    try {
      const execution = await runtime.startLocal(parsed.value);
      return c.json(runtime.runs.get(execution.runId) as RunRecord, 202);
    } catch (error) {
      return failure(c.json.bind(c), error);
    }
  });

  app.get("/runs/:id", (c) => {
    const record = runtime.runs.get(c.req.param("id"));
    return record ? c.json(record) : notFound(c.json.bind(c), c.req.param("id"));
  });

  app.get("/runs/:id/events", async (c) => {
    const id = c.req.param("id");
    if (!runtime.runs.get(id)) return notFound(c.json.bind(c), id);
    const follow = c.req.query("follow") !== undefined && c.req.query("follow") !== "0";
    return new Response(eventStream(runtime, id, follow), {
      headers: { "content-type": "application/x-ndjson" },
    });
  });

  app.post("/runs/:id/cancel", async (c) => {
    const id = c.req.param("id");
    const parsed = await body(c.req.raw, LocalCancelRequest, {});
    if (!parsed.ok) return invalid(c.json.bind(c), parsed.issues);
    if (!runtime.runs.get(id)) return notFound(c.json.bind(c), id);
    if (!runtime.runs.cancel(id, parsed.value.reason ?? "cancelled locally", "local"))
      return answer(
        c.json.bind(c),
        new Failure(409, "not_running", `run ${id} is not running on this agent`),
      );
    return c.json(runtime.runs.get(id));
  });

  app.post("/runs/:id/fork", async (c) => {
    const id = c.req.param("id");
    const parsed = await body(c.req.raw, LocalForkRequest, {});
    if (!parsed.ok) return invalid(c.json.bind(c), parsed.issues);
    const source = runtime.runs.get(id);
    if (!source) return notFound(c.json.bind(c), id);
    try {
      const execution = await runtime.startLocal({
        type: source.intent.type,
        params: source.intent.params,
        ...(parsed.value.prompt ? { prompt: parsed.value.prompt } : {}),
        budget: source.intent.policy_ctx.budget,
        ...(source.intent.policy_ctx.allowed_tools
          ? { allowed_tools: source.intent.policy_ctx.allowed_tools }
          : {}),
        fork_of: {
          run_id: id,
          ...(parsed.value.entry_id ? { entry_id: parsed.value.entry_id } : {}),
        },
      });
      return c.json(runtime.runs.get(execution.runId) as RunRecord, 202);
    } catch (err) {
      return failure(c.json.bind(c), err);
    }
  });

  app.notFound((c) =>
    answer(c.json.bind(c), new Failure(404, "not_found", `no route ${c.req.method} ${c.req.path}`)),
  );
  app.onError((err, c) => failure(c.json.bind(c), err));
  return app;
}

/**
 * A run's events as NDJSON: what the outbox holds, then (when following) live events until the
 * run's terminal event. Subscribing before reading the history means nothing falls in between.
 */
function eventStream(runtime: EdgeRuntime, runId: string, follow: boolean): ReadableStream {
  const encoder = new TextEncoder();
  let unsubscribe = () => {};
  return new ReadableStream({
    async start(controller) {
      const live: AgentEvent[] = [];
      let lastSeq = -1;
      let wake: (() => void) | null = null;
      let done = false;
      const write = (event: AgentEvent) => {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
        controller.enqueue(encoder.encode(`${JSON.stringify(event)}\n`));
        if (isRunTerminalKind(event.kind)) done = true;
      };
      if (follow)
        unsubscribe = runtime.eventSink.subscribe((event) => {
          if (event.run_id !== runId) return;
          live.push(event);
          wake?.();
        });
      const record = runtime.runs.get(runId);
      for (const event of await runtime.eventsOf(runId)) {
        if (record && event.attempt !== record.attempt) continue;
        write(event);
      }
      while (follow && !done) {
        if (live.length === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = null;
        }
        for (const event of live.splice(0)) write(event);
        if (!runtime.runs.isActive(runId) && live.length === 0) {
          const status = runtime.runs.get(runId)?.status;
          if (status !== "running" && status !== "dispatched" && status !== "pending") done = true;
        }
      }
      unsubscribe();
      controller.close();
    },
    cancel() {
      unsubscribe();
    },
  });
}

type Json = (body: unknown, status?: number) => Response;

/** The request body checked against `schema`; an empty body counts as `empty`. */
async function body<S extends z.ZodType>(
  request: Request,
  schema: S,
  empty: unknown = undefined,
): Promise<{ ok: true; value: z.output<S> } | { ok: false; issues: ValidationIssue[] }> {
  const text = await request.text();
  if (text.trim() === "") return check(schema, empty);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      ok: false,
      issues: [
        {
          path: "$",
          expected: "JSON",
          message: "the body is not valid JSON",
          code: "invalid_json",
        },
      ],
    };
  }
  return check(schema, json);
}

function invalid(json: Json, issues: ValidationIssue[]): Response {
  const message = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return answer(json, new Failure(400, "invalid_request", message, { issues }));
}

function notFound(json: Json, id: string): Response {
  return answer(json, new Failure(404, "not_found", `no run ${id} on this agent`));
}

/** A Failure in the platform's dialect, as central answers it (the contract's ApiError). */
function answer(json: Json, failure: Failure): Response {
  return json(apiErrorBody(failure), failure.status);
}

function failure(json: Json, err: unknown): Response {
  if (err instanceof CapacityError)
    return answer(json, new Failure(429, "no_capacity", err.message));
  if (err instanceof Failure) return answer(json, err);
  const issues = (err as { issues?: ValidationIssue[] }).issues;
  if (Array.isArray(issues)) return invalid(json, issues);
  return answer(
    json,
    new Failure(500, "internal", err instanceof Error ? err.message : String(err)),
  );
}
