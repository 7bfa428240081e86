import type { ApiError } from "./api/errors";
import type { LimitRefusal } from "./api/gateway";
import type { ValidationIssue } from "./validation";

/** What a refusal may carry besides its status, code and message. */
export interface FailureDetail {
  /** Each field that was wrong, by path. */
  issues?: ValidationIssue[];
  /** The rate limit or budget that refused a model call. */
  limit?: LimitRefusal;
  /** When a retry may succeed (answered as Retry-After). */
  retryAfterMs?: number;
  /** The request field at fault, as OpenAI's error bodies name it. */
  param?: string;
}

/**
 * The one failure type of the platform's HTTP surfaces: central's API, its model gateway and the
 * edge's local RPC throw it, and clients of central and of the edge get it back. Each surface
 * renders it in its own dialect (the platform's ApiError here; OpenAI's and Anthropic's error
 * bodies in central/gateway/dialects); the shape is defined once. Run outcomes are not failures
 * of a request: they are RunError (run-state.ts).
 */
export class Failure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: FailureDetail = {},
  ) {
    super(message);
    this.name = "Failure";
  }

  get issues(): ValidationIssue[] {
    return this.detail.issues ?? [];
  }

  /** The failure an ApiError body describes (a client reading central's or the edge's answer). */
  static fromBody(status: number, body: ApiError): Failure {
    return new Failure(
      status,
      body.error.code,
      body.error.message,
      body.error.issues?.length ? { issues: body.error.issues } : {},
    );
  }
}

/** The platform's own rendering: the contract's ApiError body. */
export function apiErrorBody(failure: Failure, requestId?: string | null): ApiError {
  return {
    error: {
      code: failure.code,
      message: failure.message,
      ...(failure.issues.length ? { issues: failure.issues } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
}
