import { GatewayConfig } from "../../../contract";
import { audited, bodyJson, type Handlers } from "../../tenant/routes/types";

/** The gateway's admin API, served by the tenant object like every platform route. */
export const gatewayHandlers: Handlers = {
  getGatewayConfig(c) {
    return c.json(c.env.gateway.config.view());
  },

  async putGatewayConfig(c) {
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

  getGatewayStatus(c) {
    return c.json(c.env.gateway.status());
  },
};

/** Largest gateway configuration accepted (a big cost table fits easily). */
export const GATEWAY_CONFIG_LIMIT = 512 * 1024;
