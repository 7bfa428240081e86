/** What a failed attempt means for the call: retry here, move on, or give the caller the error. */
export interface FailureVerdict {
  /** Try the same provider again (after a backoff). */
  retry: boolean;
  /** Try the next candidate. False: the caller's request is at fault; answer it now. */
  fallback: boolean;
  /** Counts toward opening the provider's circuit. */
  breaker: boolean;
  /** The `error_type` recorded for the attempt. */
  type: string;
}

/**
 * By HTTP status: 429 and 5xx are transient (retry, then fall back; 5xx also trips the breaker,
 * a rate limit does not); refused credentials are the provider's problem (fall back, trip); a
 * missing model may exist elsewhere (fall back); a redirect is not followed (it would carry the
 * key headers to a host no offer names) and is the provider's problem too; any other 4xx is the
 * request's fault.
 */
export function judgeStatus(status: number): FailureVerdict {
  if (status >= 300 && status < 400)
    return { retry: false, fallback: true, breaker: true, type: "redirect" };
  if (status === 429) return { retry: true, fallback: true, breaker: false, type: "429" };
  if (status === 408) return { retry: true, fallback: true, breaker: true, type: "408" };
  if (status >= 500) return { retry: true, fallback: true, breaker: true, type: String(status) };
  if (status === 401 || status === 403)
    return { retry: false, fallback: true, breaker: true, type: String(status) };
  if (status === 404) return { retry: false, fallback: true, breaker: false, type: "404" };
  return { retry: false, fallback: false, breaker: false, type: String(status) };
}

/**
 * The `error_type` of an answer that is not what its dialect says it is: not JSON at all, a JSON
 * answer or a stream event of the wrong shape.
 */
export const BAD_RESPONSE = "bad_response";

/** No answer at all (refused connection, DNS, reset) or no answer in time. */
export const NETWORK_FAILURE: FailureVerdict = {
  retry: true,
  fallback: true,
  breaker: true,
  type: "network",
};
export const TIMEOUT_FAILURE: FailureVerdict = {
  retry: true,
  fallback: true,
  breaker: true,
  type: "timeout",
};
