import { z } from "zod";
import { JsonObject, ToolName } from "../../../contract";
import { AdapterName, HttpUrl } from "../declaration";
import { MaxResponseBytes } from "../response-cap";

const PathTemplate = z
  .string()
  .regex(/^\/[^\s?#]*$/, "a path starting with '/', params as {name}, no query string");

export const HttpEndpoint = z.strictObject({
  tool: ToolName,
  description: z.string().min(1).max(1024),
  method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("GET"),
  path: PathTemplate,
  /** JSON Schema of the tool's arguments: `{name}` path params, then query (GET/DELETE) or body. */
  input_schema: JsonObject.default({ type: "object", properties: {} }),
  output_schema: JsonObject.optional(),
});
export type HttpEndpoint = z.infer<typeof HttpEndpoint>;

/** `<app>/adapters/<name>.json` with `"kind": "http-json"`. */
export const HttpJsonDeclaration = z
  .strictObject({
    kind: z.literal("http-json"),
    name: AdapterName,
    base_url: HttpUrl,
    /** Values may reference the environment as ${NAME}, so secrets stay out of the file. */
    headers: z.record(z.string(), z.string()).default({}),
    timeout_ms: z.number().int().positive().max(600_000).default(30_000),
    max_response_bytes: MaxResponseBytes,
    endpoints: z.array(HttpEndpoint).min(1).max(256),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.endpoints.forEach((e, i) => {
      if (seen.has(e.tool))
        ctx.addIssue({ code: "custom", path: ["endpoints", i, "tool"], message: "duplicate tool" });
      seen.add(e.tool);
      const props = (e.input_schema.properties ?? {}) as Record<string, unknown>;
      for (const [, param] of e.path.matchAll(/\{([^}]+)\}/g)) {
        if (!Object.hasOwn(props, param!))
          ctx.addIssue({
            code: "custom",
            path: ["endpoints", i, "path"],
            message: `path parameter {${param}} is not a property of input_schema`,
          });
      }
    });
  });
export type HttpJsonDeclaration = z.infer<typeof HttpJsonDeclaration>;
