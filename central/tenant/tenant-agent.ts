import { Agent } from "agents";
import { CONTRACT_VERSION } from "../../contract";
import type { Env } from "../env";

/** One per tenant (`idFromName(tenant)`): the durable, stateful core of the fleet. */
export class TenantAgent extends Agent<Env> {
  async health(): Promise<{ ok: true; tenant: string; contract: string }> {
    return { ok: true, tenant: this.name, contract: CONTRACT_VERSION };
  }
}
