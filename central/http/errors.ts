import { apiErrorBody, check, Failure, RequestId } from "../../contract";

/** A Failure answered in the platform's dialect: the contract's ApiError body. */
export function failureResponse(failure: Failure, requestId?: string | null): Response {
  return Response.json(apiErrorBody(failure, requestId), { status: failure.status });
}

export const notFound = (what: string) => new Failure(404, "not_found", `${what} not found`);

/** The `x-request-id` of a request, checked against the contract (400 naming the header if bad). */
export function requestIdOf(header: string | undefined | null): string | null {
  if (header === undefined || header === null) return null;
  const parsed = check(RequestId, header);
  if (!parsed.ok)
    throw new Failure(
      400,
      "invalid_request",
      `invalid header x-request-id: ${parsed.issues[0]!.message}`,
      {
        issues: [{ ...parsed.issues[0]!, path: "x-request-id" }],
      },
    );
  return parsed.value;
}
