import {
  AuditList,
  AuditQuery,
  Failure,
  KeyCreated,
  KeyCreateRequest,
  KeyInfo,
  KeyList,
  PATHS,
  TenantSettings,
} from "../../../contract";
import { ADMIN, body, errors, id, json, keyId } from "../../api/route";
import { readQuery } from "../../http/body";
import { notFound } from "../../http/errors";
import { audited, bodyJson, type TenantRoute, tenantRoute } from "./types";

export const governanceRoutes: TenantRoute[] = [
  tenantRoute(
    ADMIN,
    {
      operationId: "createKey",
      method: "post",
      path: PATHS.keys,
      tags: ["keys"],
      summary: "Create an API key; its secret is returned once",
      request: body(KeyCreateRequest),
      responses: { 201: json(KeyCreated, "Created"), ...errors(400, 401, 403, 409, 413, 415) },
    },
    { action: "keys.create" },
    async (c) => {
      const request = bodyJson(c, KeyCreateRequest);
      const created = await c.env.keys.create(request, c.get("principal").id);
      audited(c, created.id, { role: created.role, name: created.name, app: created.app });
      return c.json(created, 201);
    },
  ),
  tenantRoute(
    ADMIN,
    {
      operationId: "listKeys",
      method: "get",
      path: PATHS.keys,
      tags: ["keys"],
      summary: "List keys (never their secrets)",
      responses: { 200: json(KeyList, "Keys"), ...errors(401, 403) },
    },
    (c) => {
      return c.json({ keys: c.env.keys.list() });
    },
  ),
  tenantRoute(
    ADMIN,
    {
      operationId: "revokeKey",
      method: "delete",
      path: `${PATHS.keys}/{id}`,
      tags: ["keys"],
      summary: "Revoke a key; requests, agent connections and event streams using it stop now",
      request: { params: id(keyId) },
      responses: { 200: json(KeyInfo, "Revoked"), ...errors(401, 403, 404, 409) },
    },
    { action: "keys.revoke" },
    (c) => {
      const id = c.req.param("id")!;
      const key = c.env.keys.get(id);
      if (!key) throw notFound(`key ${id}`);
      if (key.role === "admin" && key.revoked_at === null) {
        const admins = c.env.keys.list().filter((k) => k.role === "admin" && k.revoked_at === null);
        if (admins.length === 1)
          throw new Failure(
            409,
            "conflict",
            "refusing to revoke the tenant's last active admin key",
          );
      }
      const revoked = c.env.keys.revoke(id)!;
      c.env.closeKeyConnections(id);
      audited(c, id, { role: revoked.role, name: revoked.name });
      return c.json(revoked);
    },
  ),
  tenantRoute(
    ADMIN,
    {
      operationId: "listAudit",
      method: "get",
      path: PATHS.audit,
      tags: ["keys"],
      summary: "The audit log, newest first",
      request: { query: AuditQuery },
      responses: { 200: json(AuditList, "Entries"), ...errors(400, 401, 403) },
    },
    (c) => {
      return c.json(c.env.audit.list(readQuery(new URL(c.req.url), AuditQuery)));
    },
  ),
  tenantRoute(
    ADMIN,
    {
      operationId: "getSettings",
      method: "get",
      path: PATHS.settings,
      tags: ["settings"],
      summary: "Timings, retry policy and archive settings",
      responses: { 200: json(TenantSettings, "Settings"), ...errors(401, 403) },
    },
    (c) => {
      return c.json(c.env.record.settings());
    },
  ),
  tenantRoute(
    ADMIN,
    {
      operationId: "putSettings",
      method: "put",
      path: PATHS.settings,
      tags: ["settings"],
      summary: "Replace the settings (omitted fields take their defaults)",
      request: body(TenantSettings),
      responses: {
        200: json(TenantSettings, "Settings"),
        ...errors(400, 401, 403, 413, 415, 422),
      },
    },
    { action: "settings.update" },
    async (c) => {
      const settings = bodyJson(c, TenantSettings);
      const external = settings.planning.external_pddl;
      const refused = external && c.env.externalPddl.refusal(external);
      if (refused)
        throw new Failure(422, "unprocessable", refused.message, {
          issues: [
            {
              path: `planning.external_pddl.${refused.path}`,
              expected: "an endpoint this platform may call for the tenant",
              message: refused.message,
              code: "invalid_settings",
            },
          ],
        });
      c.env.record.putSettings(settings);
      c.env.runs.rearmAll(c.env.record.settings(), c.env.ctx.now());
      c.env.ctx.rearm();
      audited(c, "settings", settings as unknown as Record<string, unknown>);
      return c.json(settings);
    },
  ),
];
