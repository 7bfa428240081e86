import { z } from "@hono/zod-openapi";
import { PATHS } from "../../../contract";
import { errors, READERS } from "../../api/route";
import { CONTENT_TYPE, renderExposition } from "../../metrics/exposition";
import { tenantMetrics } from "../metrics";
import { type TenantRoute, tenantRoute } from "./types";

export const metricsRoutes: TenantRoute[] = [
  tenantRoute(
    READERS,
    {
      operationId: "getMetrics",
      method: "get",
      path: PATHS.metrics,
      tags: ["metrics"],
      summary: "The caller's tenant in the Prometheus text format (version 0.0.4)",
      description:
        "Runs by status, queue depth and dispatch latency, agents by status, events ingested, gateway calls, OpenTelemetry GenAI duration and token histograms, cost by provider and model, budget use. Scrape it with the key as a bearer credential (README, Metrics).",
      responses: {
        200: {
          description: "Metrics",
          content: { [CONTENT_TYPE]: { schema: z.string() } },
        },
        ...errors(401, 403),
      },
    },
    (c) =>
      c.body(renderExposition(tenantMetrics(c.env)), 200, {
        "content-type": CONTENT_TYPE,
        "cache-control": "no-store",
      }),
  ),
];
