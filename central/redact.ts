/**
 * Secrets never enter the event log or the logs: string values that look like keys or tokens are
 * masked, and fields named like secrets lose their value. Names are matched on their last
 * snake_case segment, so `tokens_in`, `token_count` and `tool_call_id` survive.
 */
export const REDACTED = "[REDACTED]";

const SECRET_VALUE = new RegExp(
  [
    String.raw`\baur_(?:admin|op|view|agent|boot)_[A-Za-z0-9_-]{43,}`,
    "(?<![A-Za-z0-9])sk-(?:proj-|ant-[a-z0-9]{2,8}-)?[A-Za-z0-9_-]{20,}",
    String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}\b`,
    String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}`,
    String.raw`\bAIza[0-9A-Za-z_-]{35}\b`,
    String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`,
  ].join("|"),
  "g",
);

/** `Bearer <token>` keeps the scheme; `password=…`, `"api_key": "…"` keep the name. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const NAMED_VALUE =
  /\b(password|passwd|secret|client_secret|api[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|token)(["']?\s*[:=]\s*["']?)([^\s"'&,;}]{4,})/gi;

const SECRET_NAME_TAIL = new Set([
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "authorization",
  "cookie",
  "credential",
  "credentials",
  "bearer",
]);
const SECRET_NAME_PAIRS = new Set([
  "api_key",
  "private_key",
  "secret_key",
  "access_key",
  "set_cookie",
  "session_key",
  "signing_key",
]);

const nameVerdicts = new Map<string, boolean>();

/** Whether a field of this name holds a secret (memoised: payloads reuse a few names). */
export function isSecretName(name: string): boolean {
  let verdict = nameVerdicts.get(name);
  if (verdict === undefined) {
    verdict = judgeName(name);
    if (nameVerdicts.size < 10_000) nameVerdicts.set(name, verdict);
  }
  return verdict;
}

function judgeName(name: string): boolean {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s.]+/g, "_")
    .toLowerCase();
  const parts = snake.split("_").filter(Boolean);
  const last = parts.at(-1);
  if (last === undefined) return false;
  if (SECRET_NAME_TAIL.has(last)) return true;
  return parts.length >= 2 && SECRET_NAME_PAIRS.has(`${parts.at(-2)}_${last}`);
}

/** Cheap first look: strings without any of these cannot match the patterns above. */
const MAYBE_SECRET =
  /aur_|sk-|AKIA|ASIA|eyJ|gh[pousr]_|xox|AIza|PRIVATE KEY|bearer|basic|pass|secret|api|token/i;

/** Masks secret-looking substrings of one string. */
export function redactString(text: string): string {
  if (text.length < 8 || !MAYBE_SECRET.test(text)) return text;
  return text
    .replace(SECRET_VALUE, REDACTED)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(NAMED_VALUE, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
}

/**
 * Returns `value` with secrets masked; unchanged parts are shared, not copied. Only strings
 * change, so a value that passed a schema still has the same shape afterwards.
 */
export function redact<T>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const next = redactValue(value[i]);
      if (next !== value[i]) {
        out ??= value.slice();
        out[i] = next;
      }
    }
    return out ?? value;
  }
  if (value !== null && typeof value === "object") {
    let out: Record<string, unknown> | null = null;
    for (const [key, inner] of Object.entries(value)) {
      const next =
        isSecretName(key) && inner !== null && typeof inner !== "boolean"
          ? REDACTED
          : redactValue(inner);
      if (next !== inner) {
        out ??= { ...(value as Record<string, unknown>) };
        out[key] = next;
      }
    }
    return out ?? value;
  }
  return value;
}
