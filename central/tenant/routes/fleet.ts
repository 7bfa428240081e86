import {
  AgentId,
  AgentInfo,
  AgentList,
  AgentsQuery,
  ApiError,
  check,
  Failure,
  PATHS,
} from "../../../contract";
import { AGENT, errors, id, json, READERS } from "../../api/route";
import { readQuery } from "../../http/body";
import { notFound } from "../../http/errors";
import { type TenantRoute, tenantRoute } from "./types";

export const fleetRoutes: TenantRoute[] = [
  tenantRoute(
    READERS,
    {
      operationId: "listAgents",
      method: "get",
      path: PATHS.agents,
      tags: ["agents"],
      summary: "Edge agents with status, current runs and last heartbeat",
      request: { query: AgentsQuery },
      responses: { 200: json(AgentList, "Agents"), ...errors(400, 401, 403) },
    },
    (c) => {
      const shown = c.env.agents.list(readQuery(new URL(c.req.url), AgentsQuery));
      const held = c.env.runs.heldRunIds();
      return c.json({
        agents: shown.rows.map((a) => c.env.agents.info(a, held.get(a.agentId) ?? [])),
        next: shown.next,
      } satisfies AgentList);
    },
  ),
  tenantRoute(
    AGENT,
    {
      operationId: "connectAgent",
      method: "get",
      path: PATHS.agentConnect,
      tags: ["agents"],
      summary: "WebSocket for an edge agent (messages: contract/wire.ts; the first is `hello`)",
      description:
        "Upgrade with `Authorization: Bearer <agent key>`. An app-scoped key registers only agents of its app.",
      responses: {
        101: { description: "Switching protocols" },
        426: json(ApiError, "Not a WebSocket upgrade"),
        ...errors(401, 403),
      },
    },
    // The upgrade itself is taken by the Durable Object before routing; a plain GET lands here.
    () => {
      throw new Failure(
        426,
        "upgrade_required",
        "this is the edge agents' WebSocket: send a WebSocket upgrade (Upgrade: websocket)",
      );
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "getAgent",
      method: "get",
      path: `${PATHS.agents}/{id}`,
      tags: ["agents"],
      summary: "One edge agent",
      request: { params: id(AgentId) },
      responses: { 200: json(AgentInfo, "Agent"), ...errors(401, 403, 404) },
    },
    (c) => {
      const id = c.req.param("id")!;
      if (!check(AgentId, id).ok) throw notFound(`agent ${id}`);
      const agent = c.env.agents.get(id);
      if (!agent) throw notFound(`agent ${id}`);
      return c.json(c.env.agents.info(agent, c.env.runs.heldRunIds().get(id) ?? []));
    },
  ),
];
