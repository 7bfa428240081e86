import { gatewayAdminRoutes } from "../../gateway/tenant/admin-routes";
import { eventRoutes } from "./events";
import { fleetRoutes } from "./fleet";
import { governanceRoutes } from "./governance";
import { runRoutes } from "./runs";
import type { TenantRoute } from "./types";

/** Every route the tenant Durable Object serves. */
export const TENANT_ROUTES: readonly TenantRoute[] = [
  ...governanceRoutes,
  ...fleetRoutes,
  ...runRoutes,
  ...eventRoutes,
  ...gatewayAdminRoutes,
];
