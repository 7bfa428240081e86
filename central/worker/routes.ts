import { GATEWAY_ROUTES } from "../gateway/routes";
import { healthRoute, openApiRoute } from "./health";
import type { WorkerRoute } from "./route";
import { createTenantRoute } from "./tenants";

/** Every route the Worker serves itself; the rest of /v1 goes to the caller's tenant object. */
export const WORKER_ROUTES: readonly WorkerRoute[] = [
  healthRoute,
  openApiRoute,
  createTenantRoute,
  ...GATEWAY_ROUTES,
];
