import { AuditQuery, KeyCreateRequest, TenantSettings } from "../../../contract";
import { readQuery } from "../../http/body";
import { ApiFailure, notFound } from "../../http/errors";
import { audited, bodyJson, type Handlers } from "./types";

export const governanceHandlers: Handlers = {
  async createKey(c) {
    const request = bodyJson(c, KeyCreateRequest);
    const created = await c.env.keys.create(request, c.get("principal").id);
    audited(c, created.id, { role: created.role, name: created.name, app: created.app });
    return c.json(created, 201);
  },

  listKeys(c) {
    return c.json({ keys: c.env.keys.list() });
  },

  revokeKey(c) {
    const id = c.req.param("id")!;
    const key = c.env.keys.get(id);
    if (!key) throw notFound(`key ${id}`);
    if (key.role === "admin" && key.revoked_at === null) {
      const admins = c.env.keys.list().filter((k) => k.role === "admin" && k.revoked_at === null);
      if (admins.length === 1)
        throw new ApiFailure(
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

  listAudit(c) {
    return c.json(c.env.audit.list(readQuery(new URL(c.req.url), AuditQuery)));
  },

  getSettings(c) {
    return c.json(c.env.record.settings());
  },

  async putSettings(c) {
    const settings = bodyJson(c, TenantSettings);
    c.env.record.putSettings(settings);
    c.env.runs.rearmAll(c.env.record.settings(), c.env.ctx.now());
    c.env.ctx.rearm();
    audited(c, "settings", settings as unknown as Record<string, unknown>);
    return c.json(settings);
  },
};
