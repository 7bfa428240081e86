import {
  type LimitRefusal,
  own,
  type RateLimit,
  type RateLimits,
  type RateUsage,
} from "../../../contract";

export const WINDOW_MS = 60_000;

export type RateScope = "tenant" | "app" | "key";

/** One limit that applies to a call: the tenant's, its app's or its key's. */
export interface RateSubject {
  scope: RateScope;
  subject: string;
  limit: RateLimit | undefined;
}

/** The limits of a call's tenant, app and key (a scope without a limit is still counted). */
export function rateSubjects(limits: RateLimits, app: string | null, keyId: string): RateSubject[] {
  const out: RateSubject[] = [{ scope: "tenant", subject: "-", limit: limits.tenant }];
  if (app !== null)
    out.push({ scope: "app", subject: app, limit: own(limits.apps, app) ?? limits.per_app });
  out.push({ scope: "key", subject: keyId, limit: own(limits.keys, keyId) ?? limits.per_key });
  return out;
}

interface Counts {
  requests: number;
  tokens: number;
}

interface Windows {
  window: number;
  current: Counts;
  previous: Counts;
}

const empty = (): Counts => ({ requests: 0, tokens: 0 });

/**
 * Requests and tokens per minute, per tenant, app and key, as sliding windows (the last minute
 * is the current minute plus the previous one weighted by how much of it is still inside).
 * The counters live in the tenant object's memory, not in its storage: admitting a call must
 * not wait for a storage commit, and a window is only a minute long, so an object that
 * restarts starts its current minute afresh, at most one minute's allowance more.
 */
export class RateLimiter {
  private readonly windows = new Map<string, Windows>();

  constructor(private readonly now: () => number) {}

  /** The subject's windows, rolled forward to the current minute. */
  private windowsOf(s: RateSubject, window: number): Windows {
    const key = `${s.scope}\u0000${s.subject}`;
    let w = this.windows.get(key);
    if (!w) {
      w = { window, current: empty(), previous: empty() };
      this.windows.set(key, w);
    } else if (w.window !== window) {
      w.previous = w.window === window - 1 ? w.current : empty();
      w.current = empty();
      w.window = window;
    }
    return w;
  }

  /** Usage over the last minute, and the parts for retry-after. */
  private usage(s: RateSubject, now: number) {
    const window = Math.floor(now / WINDOW_MS);
    const w = this.windowsOf(s, window);
    const weight = 1 - (now - window * WINDOW_MS) / WINDOW_MS;
    return {
      window,
      w,
      requests: w.previous.requests * weight + w.current.requests,
      tokens: w.previous.tokens * weight + w.current.tokens,
    };
  }

  /** The first limit this call would break (one more request, `tokens` more tokens), or null. */
  check(subjects: RateSubject[], tokens: number): LimitRefusal | null {
    const now = this.now();
    for (const s of subjects) {
      if (!s.limit) continue;
      const u = this.usage(s, now);
      const dims = [
        [
          "requests_per_minute",
          s.limit.requests_per_minute,
          u.requests,
          1,
          u.w.previous.requests,
          u.w.current.requests,
        ],
        [
          "tokens_per_minute",
          s.limit.tokens_per_minute,
          u.tokens,
          tokens,
          u.w.previous.tokens,
          u.w.current.tokens,
        ],
      ] as const;
      for (const [dimension, limit, used, need, prev, cur] of dims) {
        if (limit === undefined || used + need <= limit) continue;
        return {
          kind: "rate",
          scope: s.scope,
          subject: s.subject,
          dimension,
          limit,
          used: Math.round(used * 100) / 100,
          requested: need,
          period: null,
          // A call that needs more than the limit allows a whole minute never fits: no retry.
          retry_after_ms:
            need > limit ? null : retryAfter(limit, need, prev, cur, now - u.window * WINDOW_MS),
        };
      }
    }
    return null;
  }

  /**
   * Counts admitted calls, `tokens` each (an estimate, corrected at settle): one, or a lease's
   * slots, all counted when the lease is granted.
   */
  count(subjects: RateSubject[], tokens: number, calls = 1): number {
    const window = Math.floor(this.now() / WINDOW_MS);
    for (const s of subjects) {
      const w = this.windowsOf(s, window);
      w.current.requests += calls;
      w.current.tokens += tokens * calls;
    }
    return window;
  }

  /**
   * Replaces the estimate counted at admission with what the call really used (and takes back
   * the requests of a lease's unused slots).
   */
  correct(subjects: RateSubject[], window: number, delta: number, requests = 0): void {
    if (delta === 0 && requests === 0) return;
    for (const s of subjects) {
      const w = this.windows.get(`${s.scope}\u0000${s.subject}`);
      const counts =
        w?.window === window ? w.current : w?.window === window + 1 ? w.previous : null;
      if (!counts) continue;
      counts.tokens = Math.max(0, counts.tokens + delta);
      counts.requests = Math.max(0, counts.requests + requests);
    }
  }

  /** The least room left over the last minute under any limit of these subjects (null: none). */
  headroom(subjects: RateSubject[]): { requests: number | null; tokens: number | null } {
    const now = this.now();
    let requests: number | null = null;
    let tokens: number | null = null;
    const least = (a: number | null, b: number) => (a === null ? b : Math.min(a, b));
    for (const s of subjects) {
      if (!s.limit) continue;
      const u = this.usage(s, now);
      if (s.limit.requests_per_minute !== undefined)
        requests = least(requests, s.limit.requests_per_minute - u.requests);
      if (s.limit.tokens_per_minute !== undefined)
        tokens = least(tokens, s.limit.tokens_per_minute - u.tokens);
    }
    return { requests, tokens };
  }

  /** Subjects idle for two minutes hold nothing that counts any more. */
  prune(): void {
    const window = Math.floor(this.now() / WINDOW_MS);
    for (const [key, w] of this.windows) if (w.window < window - 1) this.windows.delete(key);
  }

  status(subjects: RateSubject[]): RateUsage[] {
    const now = this.now();
    return subjects.map((s) => {
      const u = this.usage(s, now);
      return {
        scope: s.scope,
        subject: s.subject,
        requests_last_minute: Math.round(u.requests * 100) / 100,
        requests_per_minute: s.limit?.requests_per_minute ?? null,
        tokens_last_minute: Math.round(u.tokens),
        tokens_per_minute: s.limit?.tokens_per_minute ?? null,
      };
    });
  }
}

/**
 * How long until `need` more fits under `limit`, as the previous minute slides out: within this
 * minute if the current count leaves room, else into the next one.
 */
function retryAfter(
  limit: number,
  need: number,
  prev: number,
  cur: number,
  elapsed: number,
): number {
  if (cur + need <= limit && prev > 0) {
    const weight = (limit - need - cur) / prev;
    return Math.max(1, Math.ceil((1 - weight) * WINDOW_MS - elapsed));
  }
  const intoNext = cur > 0 ? Math.max(0, (1 - (limit - need) / cur) * WINDOW_MS) : 0;
  return Math.max(1, Math.ceil(WINDOW_MS - elapsed + intoNext));
}
