import { gatewayAdminRoutes } from "../../gateway/tenant/admin-routes";
import { eventRoutes } from "./events";
import { fleetRoutes } from "./fleet";
import { governanceRoutes } from "./governance";
import { metricsRoutes } from "./metrics";
import { planRoutes } from "./plans";
import { runRoutes } from "./runs";
import { secretRoutes } from "./secrets";
import { sessionRoutes } from "./session";
import type { TenantRoute } from "./types";

/** Every route the tenant Durable Object serves. */
export const TENANT_ROUTES: readonly TenantRoute[] = [
  ...governanceRoutes,
  ...sessionRoutes,
  ...secretRoutes,
  ...fleetRoutes,
  ...runRoutes,
  ...planRoutes,
  ...eventRoutes,
  ...gatewayAdminRoutes,
  ...metricsRoutes,
];
