import type { Role } from "../../contract";

/** Who is calling: a tenant key (after its record was checked), or the platform bootstrap key. */
export interface Principal {
  /** Key id, or `bootstrap`. */
  id: string;
  role: Role | "bootstrap";
  /** Agent keys may be restricted to one app. */
  app: string | null;
  /** The bearer secret (or session token), held only for the request: it seals idempotent replays. */
  secret: string;
  /** Set when the caller signed in through the dashboard's session cookie rather than a key. */
  session?: { expiresAt: number };
}

export const BOOTSTRAP_PRINCIPAL_ID = "bootstrap";
/** Central itself, when it calls its own gateway (its planner's model calls). */
export const CENTRAL_PRINCIPAL = "central";

export function hasRole(principal: Principal, roles: readonly string[]): boolean {
  return roles.includes(principal.role);
}
