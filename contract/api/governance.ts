import { z } from "zod";
import { AppName, JsonObject, TenantId, Timestamp } from "../primitives";

export const Role = z.enum(["admin", "operator", "viewer", "agent"]).meta({ id: "Role" });
export type Role = z.infer<typeof Role>;

/** API keys look like `aur_<role letter>_<43 base64url chars>` so leaked ones are recognisable. */
export const API_KEY_PATTERN = /^aur_[a-z]{2,5}_[A-Za-z0-9_-]{43,}$/;

export const TenantCreateRequest = z
  .strictObject({ tenant: TenantId, name: z.string().min(1).max(200).optional() })
  .meta({ id: "TenantCreateRequest" });

export const KeyCreateRequest = z
  .strictObject({
    role: Role,
    name: z.string().min(1).max(200),
    app: AppName.optional().describe("agent keys: restrict the key to agents of this app"),
  })
  .meta({ id: "KeyCreateRequest" });
export type KeyCreateRequest = z.infer<typeof KeyCreateRequest>;

export const KeyInfo = z
  .object({
    id: z.string(),
    tenant: TenantId,
    role: Role,
    name: z.string(),
    app: AppName.nullable(),
    prefix: z.string().describe("the key's first characters, to recognise it"),
    created_at: Timestamp,
    created_by: z.string().nullable(),
    last_used_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable(),
  })
  .meta({ id: "KeyInfo" });
export type KeyInfo = z.infer<typeof KeyInfo>;

/** Returned once, at creation; central keeps only a hash. */
export const KeyCreated = KeyInfo.extend({ key: z.string().regex(API_KEY_PATTERN) }).meta({
  id: "KeyCreated",
});
export type KeyCreated = z.infer<typeof KeyCreated>;

export const TenantCreated = z
  .object({
    tenant: TenantId,
    name: z.string().nullable(),
    created_at: Timestamp,
    admin_key: KeyCreated,
  })
  .meta({ id: "TenantCreated" });

export const AuditEntry = z
  .object({
    id: z.number().int(),
    at: Timestamp,
    principal: z.string().describe("key id, or `bootstrap`"),
    role: z.string(),
    action: z.string().describe("e.g. keys.create, intents.submit, runs.cancel"),
    target: z.string().nullable(),
    outcome: z.enum(["ok", "denied", "error"]),
    status: z.number().int(),
    request_id: z.string().nullable(),
    detail: JsonObject.nullable(),
  })
  .meta({ id: "AuditEntry" });
export type AuditEntry = z.infer<typeof AuditEntry>;

export const KeyList = z.object({ keys: z.array(KeyInfo) }).meta({ id: "KeyList" });
export const AuditList = z
  .object({ entries: z.array(AuditEntry), next: z.number().int().nullable() })
  .meta({ id: "AuditList" });
