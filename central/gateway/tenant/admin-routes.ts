import { GatewayConfig, GatewayConfigView, GatewayStatus, PATHS } from "../../../contract";
import { ADMIN, body, errors, json, READERS } from "../../api/route";
import { audited, bodyJson, type TenantRoute, tenantRoute } from "../../tenant/routes/types";

/** The gateway's admin API, served by the tenant object like every platform route. */
/** Largest gateway configuration accepted (a big cost table fits easily). */
export const GATEWAY_CONFIG_LIMIT = 512 * 1024;

export const gatewayAdminRoutes: TenantRoute[] = [
  tenantRoute(
    ADMIN,
    {
      operationId: "getGatewayConfig",
      method: "get",
      path: PATHS.gatewayConfig,
      tags: ["gateway"],
      summary: "The model gateway's configuration (provider keys shown only by reference)",
      responses: { 200: json(GatewayConfigView, "Configuration"), ...errors(401, 403) },
    },
    (c) => {
      return c.json(c.env.gateway.config.view());
    },
  ),
  tenantRoute(
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
    async (c) => {
      const config = bodyJson(c, GatewayConfig);
      const view = await c.env.gateway.putConfig(config);
      audited(c, "gateway", {
        version: view.version,
        providers: view.providers.map((p) => p.id),
        aliases: Object.keys(view.aliases),
        prices: view.prices?.version ?? null,
      });
      return c.json(view);
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "getGatewayStatus",
      method: "get",
      path: PATHS.gatewayStatus,
      tags: ["gateway"],
      summary:
        "Provider health and circuits, budgets, rate windows, the response cache, cost table versions",
      responses: { 200: json(GatewayStatus, "Status"), ...errors(401, 403) },
    },
    (c) => {
      return c.json(c.env.gateway.status());
    },
  ),
];
