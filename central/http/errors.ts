import { type ApiError, check, RequestId, type ValidationIssue } from "../../contract";

export type ErrorCode =
  | "invalid_request"
  | "malformed_json"
  | "unsupported_media_type"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unprocessable"
  | "upgrade_required"
  | "not_initialized"
  | "internal";

/** A refusal with an HTTP status, answered as the contract's ApiError body. */
export class ApiFailure extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 426 | 500 | 503,
    readonly code: ErrorCode,
    message: string,
    readonly issues?: ValidationIssue[],
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

export function errorBody(
  code: string,
  message: string,
  issues?: ValidationIssue[],
  requestId?: string | null,
): ApiError {
  return {
    error: {
      code,
      message,
      ...(issues?.length ? { issues } : {}),
      ...(requestId ? { request_id: requestId } : {}),
    },
  };
}

export function failureResponse(failure: ApiFailure, requestId?: string | null): Response {
  return Response.json(errorBody(failure.code, failure.message, failure.issues, requestId), {
    status: failure.status,
  });
}

export const notFound = (what: string) => new ApiFailure(404, "not_found", `${what} not found`);

/** The `x-request-id` of a request, checked against the contract (400 naming the header if bad). */
export function requestIdOf(header: string | undefined | null): string | null {
  if (header === undefined || header === null) return null;
  const parsed = check(RequestId, header);
  if (!parsed.ok)
    throw new ApiFailure(
      400,
      "invalid_request",
      `invalid header x-request-id: ${parsed.issues[0]!.message}`,
      [{ ...parsed.issues[0]!, path: "x-request-id" }],
    );
  return parsed.value;
}
