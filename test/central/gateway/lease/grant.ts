import type { LeaseGrant } from "../../../../central/gateway/admission";

/** A lease grant as the tenant object makes them: 3 slots for 2 s, for the unit tests. */
export const grant = (over: Partial<LeaseGrant> = {}): LeaseGrant => ({
  id: "l1",
  epoch: "e1",
  ttlMs: 2_000,
  slots: 3,
  slotInputTokens: 1_024,
  slotOutputTokens: 100,
  slotTokens: 1_124,
  slotUsd: 0.001,
  attribution: {
    keyId: "k",
    runId: null,
    agentId: "k",
    attempt: null,
    app: null,
    intentType: null,
    tags: [],
  },
  route: {} as LeaseGrant["route"],
  alias: "auto",
  rateWindow: 0,
  chain: [],
  budgeted: true,
  maxOutputTokens: 4_096,
  cacheEnabled: false,
  ...over,
});
