import { z } from "zod";
import {
  check,
  Failure,
  PATHS,
  SecretInfo,
  SecretList,
  SecretSetRequest,
  TenantSecretName,
} from "../../../contract";
import { ADMIN, body, errors, json, READERS } from "../../api/route";
import { notFound } from "../../http/errors";
import { audited, bodyJson, type TenantRoute, tenantRoute } from "./types";

const named = { params: z.object({ name: TenantSecretName }) };

/** A secret's name from the path (a 400 says what a name may be). */
function nameOf(c: Parameters<TenantRoute["handle"]>[0]): string {
  const parsed = check(TenantSecretName, c.req.param("name"));
  if (!parsed.ok)
    throw new Failure(400, "invalid_request", `invalid secret name: ${parsed.issues[0]!.message}`, {
      issues: parsed.issues.map((i) => ({ ...i, path: "name" })),
    });
  return parsed.value;
}

/**
 * Tenant secrets for adapters. Admins set and remove them; every role that reads may list their
 * names. No route returns a value: values leave central only through a claim's handle, to the
 * agent holding the run (fleet/agent-socket.ts).
 */
export const secretRoutes: TenantRoute[] = [
  tenantRoute(
    ADMIN,
    {
      operationId: "setSecret",
      method: "put",
      path: `${PATHS.secrets}/{name}`,
      tags: ["secrets"],
      summary: "Create or replace a secret; its value is sealed and never returned",
      description:
        "The value is sealed with AES-GCM under the Worker secret AURAISON_GATEWAY_KEK. Agents receive it only for runs they claimed, when their app declares it (and `apps`, if given, names their app).",
      request: { ...named, ...body(SecretSetRequest) },
      responses: {
        200: json(SecretInfo, "Stored"),
        ...errors(400, 401, 403, 413, 415, 503),
      },
    },
    { action: "secrets.set" },
    async (c) => {
      const name = nameOf(c);
      const request = bodyJson(c, SecretSetRequest);
      const stored = await c.env.secrets.set(name, request, c.get("principal").id);
      audited(c, name, { apps: stored.apps });
      return c.json(stored);
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "listSecrets",
      method: "get",
      path: PATHS.secrets,
      tags: ["secrets"],
      summary: "List secrets: names, apps and times, never values",
      responses: { 200: json(SecretList, "Secrets"), ...errors(401, 403) },
    },
    (c) => c.json({ secrets: c.env.secrets.list() }),
  ),
  tenantRoute(
    ADMIN,
    {
      operationId: "removeSecret",
      method: "delete",
      path: `${PATHS.secrets}/{name}`,
      tags: ["secrets"],
      summary: "Remove a secret; runs claimed from now on no longer receive it",
      request: named,
      responses: { 200: json(SecretInfo, "Removed"), ...errors(400, 401, 403, 404) },
    },
    { action: "secrets.remove" },
    (c) => {
      const name = nameOf(c);
      const removed = c.env.secrets.remove(name);
      if (!removed) throw notFound(`secret ${name}`);
      audited(c, name);
      return c.json(removed);
    },
  ),
];
