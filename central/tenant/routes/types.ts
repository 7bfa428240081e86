import type { Context } from "hono";
import type { Principal } from "../../auth/principal";
import type { TenantServices } from "../services";

export type TenantEnv = {
  Bindings: TenantServices;
  Variables: {
    principal: Principal;
    requestId: string | null;
    auditTarget: string | null;
    auditDetail: Record<string, unknown> | null;
  };
};

export type TenantContextHono = Context<TenantEnv>;
export type Handler = (c: TenantContextHono) => Response | Promise<Response>;

/** Handlers by the operationId of their route in api/spec.ts. */
export type Handlers = Record<string, Handler>;

/** Names the target (and detail) of a mutating call for the audit log. */
export function audited(
  c: TenantContextHono,
  target: string | null,
  detail: Record<string, unknown> | null = null,
): void {
  c.set("auditTarget", target);
  c.set("auditDetail", detail);
}
