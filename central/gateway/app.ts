import { type Context, Hono } from "hono";
import { PATHS } from "../../contract";
import { createLogger } from "../log";
import { handleCall } from "./call/handle-call";
import { callerKey } from "./call/inbound";
import { type Dialect, errorResponse, GatewayFailure } from "./dialects/errors";

const log = createLogger({ component: "gateway" });

type GatewayContext = Context<{ Bindings: Env }>;

/** Any failure inside a call is still answered in the caller's dialect. */
async function guarded(
  dialect: Dialect,
  run: () => Promise<Response>,
  c: GatewayContext,
): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof GatewayFailure) return errorResponse(dialect, error);
    log.error("model call failed", { error, path: new URL(c.req.url).pathname });
    return errorResponse(
      dialect,
      new GatewayFailure(500, "internal", "internal error in the gateway"),
    );
  }
}

const notAllowed = (dialect: Dialect, allow: string) => (c: GatewayContext) =>
  errorResponse(
    dialect,
    new GatewayFailure(
      405,
      "method_not_allowed",
      `${c.req.method} is not allowed here; use ${allow}`,
    ),
    { allow },
  );

/** `GET /v1/models`: OpenAI's list format, or Anthropic's when the caller sends anthropic-version. */
async function listModels(c: GatewayContext): Promise<Response> {
  const anthropic = c.req.header("anthropic-version") !== undefined;
  const dialect: Dialect = anthropic ? "anthropic" : "openai";
  return guarded(
    dialect,
    async () => {
      const { secret, tenant } = await callerKey(c.req.raw.headers, c.env);
      const models = await c.env.TENANT.getByName(tenant).gatewayModels(secret);
      if (!models) throw new GatewayFailure(401, "invalid_api_key", "unknown or revoked API key");
      const ids = [
        ...models.aliases.map((a) => ({ id: a.name, owner: "auraison" })),
        ...models.models.map((m) => ({ id: `${m.provider}/${m.model}`, owner: m.provider })),
      ];
      if (anthropic)
        return c.json({
          data: ids.map((m) => ({
            type: "model",
            id: m.id,
            display_name: m.id,
            created_at: "1970-01-01T00:00:00Z",
          })),
          has_more: false,
          first_id: ids[0]?.id ?? null,
          last_id: ids.at(-1)?.id ?? null,
        });
      return c.json({
        object: "list",
        data: ids.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: m.owner })),
      });
    },
    c,
  );
}

/**
 * The model gateway's API, served by the Worker itself: OpenAI's chat completions, Anthropic's
 * messages and the model list. The calls and their streams run here, not in the tenant object,
 * which only admits and settles them.
 */
export const gateway = new Hono<{ Bindings: Env }>()
  .post(PATHS.chatCompletions, (c) => guarded("openai", () => handleCall(c, "openai", log), c))
  .post(PATHS.messages, (c) => guarded("anthropic", () => handleCall(c, "anthropic", log), c))
  .get(PATHS.models, listModels)
  .all(PATHS.chatCompletions, notAllowed("openai", "POST"))
  .all(PATHS.messages, notAllowed("anthropic", "POST"))
  .all(PATHS.models, notAllowed("openai", "GET"));
