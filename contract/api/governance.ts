import { z } from "zod";
import { AppName, JsonObject, queryInt, TenantId, Timestamp } from "../primitives";

export const Role = z.enum(["admin", "operator", "viewer", "agent"]).meta({ id: "Role" });
export type Role = z.infer<typeof Role>;

/**
 * API keys look like `aur_<role>_<tenant>_<secret>`: a recognisable prefix (secret scanners and
 * the redactor match it), the tenant so the Worker routes the key to its tenant's Durable Object
 * without a lookup, and 32 random bytes as 43 base64url characters. Only a hash is stored; the
 * role in the key is a hint for humans, the stored record is what counts.
 */
export const API_KEY_PATTERN =
  /^aur_(admin|op|view|agent)_([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)_([A-Za-z0-9_-]{43})$/;

export const ROLE_KEY_PREFIX = {
  admin: "admin",
  operator: "op",
  viewer: "view",
  agent: "agent",
} as const;

export const TenantCreateRequest = z
  .strictObject({ tenant: TenantId, name: z.string().min(1).max(200).optional() })
  .meta({ id: "TenantCreateRequest" });

const KeyName = z.string().min(1).max(200);
/** Only an agent key may be restricted to one app. */
export const KeyCreateRequest = z
  .discriminatedUnion("role", [
    z.strictObject({
      role: z.literal("agent"),
      name: KeyName,
      app: AppName.optional().describe("restrict the key to agents of this app"),
    }),
    z.strictObject({ role: z.enum(["admin", "operator", "viewer"]), name: KeyName }),
  ])
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

/** Who a dashboard session (or a key) signs in as; `expires_at` is null for a bearer key. */
export const SessionInfo = z
  .object({
    tenant: TenantId,
    key_id: z.string(),
    role: Role,
    expires_at: Timestamp.nullable(),
  })
  .meta({ id: "SessionInfo" });
export type SessionInfo = z.infer<typeof SessionInfo>;

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
export type TenantCreated = z.infer<typeof TenantCreated>;

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
export type AuditList = z.infer<typeof AuditList>;

/** Query of `GET /v1/audit`, newest first; pass `next` as `before` for the next page. */
export const AuditQuery = z.strictObject({
  limit: queryInt(1, 500).default(100),
  before: queryInt(1).optional().describe("the `next` of the previous page"),
});
export type AuditQuery = z.output<typeof AuditQuery>;
