import { TENANT_ROUTES } from "../tenant/routes";
import { WORKER_ROUTES } from "../worker/routes";
import type { RouteSpec } from "./route";

/** Every route of central's API: what /openapi.json documents and the access tests walk. */
export const ROUTES: readonly RouteSpec[] = [...WORKER_ROUTES, ...TENANT_ROUTES];
