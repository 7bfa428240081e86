import { z } from "zod";

export const ApiIssue = z
  .object({ path: z.string(), expected: z.string(), message: z.string(), code: z.string() })
  .meta({ id: "ApiIssue" });

/** Every 4xx/5xx body from central's platform API (the model gateway speaks providers' formats). */
export const ApiError = z
  .object({
    error: z.object({
      code: z
        .string()
        .describe("stable code, e.g. invalid_request, forbidden, not_found, rate_limited"),
      message: z.string(),
      issues: z.array(ApiIssue).optional().describe("one per invalid field, with its path"),
      request_id: z.string().optional(),
    }),
  })
  .meta({ id: "ApiError" });
export type ApiError = z.infer<typeof ApiError>;
