import type { RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type Access, type Route, type RouteSpec, routeSpec } from "../api/route";

export type WorkerContext = Context<{ Bindings: Env }>;

/** What a Worker route may need of the API as a whole (the document lists every route). */
export interface WorkerApi {
  routes: readonly RouteSpec[];
}

export type WorkerHandler = (c: WorkerContext, api: WorkerApi) => Response | Promise<Response>;

/**
 * A route the Worker serves itself, with its handler; `refuse` answers a method the path does
 * not take, in the route's own dialect (the model gateway's are OpenAI's or Anthropic's).
 */
export type WorkerRoute = Route<WorkerHandler> & {
  refuse?: (c: WorkerContext, allow: string) => Response;
};

export function workerRoute(
  access: Access,
  config: RouteConfig & { operationId: string },
  handle: WorkerHandler,
  extra: Pick<RouteSpec, "action" | "bodyLimit"> & Pick<WorkerRoute, "refuse"> = {},
): WorkerRoute {
  const { refuse, ...spec } = extra;
  return { ...routeSpec("worker", access, config, spec), handle, ...(refuse ? { refuse } : {}) };
}
