import { z } from "zod";
import { AdapterName, DeclaredTool, InputSchema, TimeoutMs, uniqueTools } from "../declaration";

/**
 * A Zenoh key expression, optionally with `{param}` chunks the tool's arguments fill in:
 * `ai/inference/vla`, `robot/{robot_id}/target`, `lab/sensors/**`.
 */
const KeyExprTemplate = z
  .string()
  .min(1)
  .max(1024)
  .regex(
    /^(?:[^/?#$\s]+|\{[A-Za-z_][A-Za-z0-9_]*\})(?:\/(?:[^/?#$\s]+|\{[A-Za-z_][A-Za-z0-9_]*\}))*$/,
    "a key expression like a/b/**, chunks separated by '/', {param} for an argument",
  );

const Get = z.strictObject({
  ...DeclaredTool,
  op: z.literal("get"),
  key_expr: KeyExprTemplate,
  /** The query's payload schema; the arguments (less {params}) go as JSON. */
  input_schema: InputSchema.default({ type: "object" }),
  /** At most this many replies are returned; 1 returns the reply itself. */
  max_replies: z.number().int().positive().max(10_000).default(1),
  /** Which queryables answer: the best matching one, or all of them. */
  target: z.enum(["best_matching", "all", "all_complete"]).default("best_matching"),
  timeout_ms: TimeoutMs.optional(),
});

const Put = z.strictObject({
  ...DeclaredTool,
  op: z.literal("put"),
  key_expr: KeyExprTemplate,
  input_schema: InputSchema.default({ type: "object" }),
});

const Subscribe = z.strictObject({
  ...DeclaredTool,
  op: z.literal("subscribe"),
  key_expr: KeyExprTemplate,
  count: z.number().int().positive().max(10_000).default(1),
  max_count: z.number().int().positive().max(10_000).default(100),
  timeout_ms: TimeoutMs.optional(),
});

export const ZenohTool = z.discriminatedUnion("op", [Get, Put, Subscribe]);
export type ZenohTool = z.infer<typeof ZenohTool>;

/**
 * `<app>/adapters/<name>.json` with `"kind": "zenoh"`: key expressions of a Zenoh network as
 * tools — queries to queryables (`get`), publications (`put`) and samples (`subscribe`) —
 * through a Zenoh router's remote-api plugin.
 */
export const ZenohDeclaration = z
  .strictObject({
    kind: z.literal("zenoh"),
    name: AdapterName,
    /** The router's remote-api websocket: `ws/127.0.0.1:10000` or `ws://127.0.0.1:10000`. */
    locator: z
      .string()
      .regex(
        /^(?:wss?\/|wss?:\/\/)\S+$/,
        "the remote-api plugin's websocket, e.g. ws/127.0.0.1:10000",
      ),
    connect_timeout_ms: TimeoutMs.default(5_000),
    timeout_ms: TimeoutMs.default(30_000),
    tools: z.array(ZenohTool).min(1).max(256),
  })
  .superRefine((d, ctx) => {
    uniqueTools(d.tools, ctx);
    d.tools.forEach((t, i) => {
      // A subscription has no arguments to fill a key with: the model only says how many.
      if (t.op === "subscribe") {
        if (/\{[^}]+\}/.test(t.key_expr))
          ctx.addIssue({
            code: "custom",
            path: ["tools", i, "key_expr"],
            message: "subscribe keys take no {params}; use * wildcards, e.g. robot/*/odom",
          });
        return;
      }
      const props = (t.input_schema.properties ?? {}) as Record<string, unknown>;
      for (const [, param] of t.key_expr.matchAll(/\{([^}]+)\}/g))
        if (!Object.hasOwn(props, param!))
          ctx.addIssue({
            code: "custom",
            path: ["tools", i, "key_expr"],
            message: `{${param}} is not a property of input_schema`,
          });
    });
  });
export type ZenohDeclaration = z.infer<typeof ZenohDeclaration>;
