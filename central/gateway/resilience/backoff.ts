import type { ResilienceSettings } from "../../../contract";

/**
 * How long to wait before retry number `retry` (1 for the first): exponential from
 * `backoff_base_ms`, capped at `backoff_max_ms`, with full jitter; never less than the
 * provider's Retry-After. A Retry-After beyond `max_retry_after_ms` is not worth waiting for:
 * null, and the call moves on to its next candidate.
 */
export function retryDelayMs(
  retry: number,
  settings: Pick<ResilienceSettings, "backoff_base_ms" | "backoff_max_ms" | "max_retry_after_ms">,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  if (retryAfterMs !== null && retryAfterMs > settings.max_retry_after_ms) return null;
  const ceiling = Math.min(settings.backoff_max_ms, settings.backoff_base_ms * 2 ** (retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(retryAfterMs ?? 0, jittered);
}

/** A provider's Retry-After (`retry-after-ms`, or `retry-after` in seconds or as an HTTP date). */
export function retryAfterMs(headers: Headers, now: number): number | null {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get("retry-after");
  if (value === null) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
