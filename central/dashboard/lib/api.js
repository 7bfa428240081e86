// The /v1 API with the session cookie, and who is signed in.

export const WRITERS = ["admin", "operator"];

/** The session (`GET /v1/session`'s answer) while signed in, else null. */
export const session = { me: null };

export function can(roles) {
  return session.me !== null && roles.includes(session.me.role);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
  }
}

/** Dispatched on `window` when the API says the session is gone; the page shows sign-in. */
export const SESSION_ENDED = "auraison:session-ended";

export async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.status === 401 && path !== "/v1/session")
    window.dispatchEvent(new CustomEvent(SESSION_ENDED));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}
