import { AgentId, check } from "../../../contract";
import { ApiFailure, notFound } from "../../http/errors";
import type { Handlers } from "./types";

export const fleetHandlers: Handlers = {
  listAgents(c) {
    const held = c.env.runs.heldRunIds();
    return c.json({
      agents: c.env.agents.list().map((a) => c.env.agents.info(a, held.get(a.agentId) ?? [])),
    });
  },

  getAgent(c) {
    const id = c.req.param("id")!;
    if (!check(AgentId, id).ok) throw notFound(`agent ${id}`);
    const agent = c.env.agents.get(id);
    if (!agent) throw notFound(`agent ${id}`);
    return c.json(c.env.agents.info(agent, c.env.runs.heldRunIds().get(id) ?? []));
  },

  connectAgent() {
    throw new ApiFailure(
      426,
      "upgrade_required",
      "this is the edge agents' WebSocket: send a WebSocket upgrade (Upgrade: websocket)",
    );
  },
};
