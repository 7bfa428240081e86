import { deleteCookie, setCookie } from "hono/cookie";
import { Failure, type SessionInfo as Info, PATHS, SessionInfo } from "../../../contract";
import { errors, json, READERS } from "../../api/route";
import { maySignIn, SESSION_COOKIE, SESSION_TTL_MS } from "../../auth/session";
import { iso } from "../context";
import { type TenantContextHono, type TenantRoute, tenantRoute } from "./types";

/** The cookie's attributes: never readable by scripts, never sent by another site, https when served so. */
function cookieOptions(c: TenantContextHono) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "Strict" as const,
    secure: new URL(c.req.url).protocol === "https:",
  };
}

function info(c: TenantContextHono, expiresAt: number | null): Info {
  const principal = c.get("principal");
  if (!maySignIn(principal.role))
    throw new Failure(403, "forbidden", "agent keys cannot sign in to the dashboard");
  return {
    tenant: c.env.ctx.tenant,
    key_id: principal.id,
    role: principal.role,
    expires_at: expiresAt === null ? null : iso(expiresAt),
  };
}

export const sessionRoutes: TenantRoute[] = [
  tenantRoute(
    READERS,
    {
      operationId: "createSession",
      method: "post",
      path: PATHS.session,
      tags: ["keys"],
      summary: "Sign in to the dashboard: a key (in Authorization) for an HttpOnly session cookie",
      description: `The page sends the key once and keeps nothing: the session cookie (\`${SESSION_COOKIE}\`, HttpOnly, SameSite=Strict) lasts ${SESSION_TTL_MS / 60_000} minutes and ends when its key is revoked.`,
      responses: { 201: json(SessionInfo, "Signed in"), ...errors(401, 403) },
    },
    { action: "session.create" },
    async (c) => {
      if (c.get("principal").session)
        throw new Failure(403, "forbidden", "sign in with a key: a session cannot extend itself");
      const body = info(c, null);
      const session = await c.env.keys.openSession(c.get("principal"));
      setCookie(c, SESSION_COOKIE, session.token, {
        ...cookieOptions(c),
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
      return c.json({ ...body, expires_at: iso(session.expiresAt) }, 201);
    },
  ),
  tenantRoute(
    READERS,
    {
      operationId: "getSession",
      method: "get",
      path: PATHS.session,
      tags: ["keys"],
      summary: "Who this request signs in as: tenant, key, role, and when its session ends",
      responses: { 200: json(SessionInfo, "Signed in as"), ...errors(401, 403) },
    },
    (c) => c.json(info(c, c.get("principal").session?.expiresAt ?? null)),
  ),
  tenantRoute(
    READERS,
    {
      operationId: "deleteSession",
      method: "delete",
      path: PATHS.session,
      tags: ["keys"],
      summary: "Sign out of the dashboard: the session ends and its cookie is cleared",
      description:
        "A session cookie sent again after signing out (a copy kept elsewhere) is refused, as after its hour, and the event streams it opened end.",
      responses: { 204: { description: "Signed out" }, ...errors(401, 403) },
    },
    { action: "session.delete" },
    async (c) => {
      const principal = c.get("principal");
      await c.env.keys.endSession(principal);
      if (principal.session) c.env.streams.endSession(principal.secret);
      deleteCookie(c, SESSION_COOKIE, cookieOptions(c));
      return c.body(null, 204);
    },
  ),
];
