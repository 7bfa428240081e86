import { type JsonValue, own, parse } from "../../../contract";
import type { AdapterFactory, AdapterTool } from "../adapter";
import { CallDeadline, resultOf } from "../call";
import { collectingTool } from "../collect";
import { resolveUrl } from "../references";
import { ZenohDeclaration, type ZenohTool } from "./declaration";
import { routerUrl, ZenohClient, type ZenohValue } from "./session";

/** Zenoh key expressions as tools: queryables to query, keys to put, samples to collect. */
export const zenohAdapter: AdapterFactory = (declaration, { file, env }) => {
  const d = parse(ZenohDeclaration, declaration, file);
  // Checked as the URL the session connects to (the declaration's pattern puts the scheme
  // first, never a reference).
  const client = new ZenohClient(
    resolveUrl(routerUrl(d.locator), env, file, "locator", "ws"),
    d.connect_timeout_ms,
  );
  return {
    kind: "zenoh",
    name: d.name,
    tools: d.tools.map((t) => zenohTool(t, client, d.timeout_ms)),
    close: () => client.close(),
  };
};

function zenohTool(t: ZenohTool, client: ZenohClient, defaultTimeoutMs: number): AdapterTool {
  switch (t.op) {
    case "get":
      return {
        name: t.tool,
        description: t.description,
        input_schema: t.input_schema,
        async execute(args, { signal, progress }) {
          const { keyExpr, rest } = fill(t.key_expr, args);
          const timeoutMs = t.timeout_ms ?? defaultTimeoutMs;
          const deadline = new CallDeadline(`query on ${keyExpr}`, timeoutMs, signal);
          const replies = await deadline.guard(() =>
            client.get(keyExpr, rest, {
              // Zenoh's own query timeout runs a little longer, so the call's deadline is the one
              // that ends a slow query, with its own message; a query no queryable matches ends
              // at once either way.
              timeoutMs: timeoutMs + 500,
              maxReplies: t.max_replies,
              target: t.target,
              signal: deadline.signal,
              onReply: (n, reply) => progress?.(`reply ${n} from ${reply.key_expr}`),
            }),
          );
          if (replies.length === 0) throw new Error(`no queryable answered on ${keyExpr}`);
          return resultOf(
            t.max_replies === 1 ? toJson(replies[0]!) : { replies: replies.map(toJson) },
          );
        },
      };
    case "put":
      return {
        name: t.tool,
        description: t.description,
        input_schema: t.input_schema,
        async execute(args, { signal }) {
          const { keyExpr, rest } = fill(t.key_expr, args);
          const deadline = new CallDeadline(`put on ${keyExpr}`, defaultTimeoutMs, signal);
          await deadline.guard(() => client.put(keyExpr, rest));
          return resultOf({ put: true, key_expr: keyExpr });
        },
      };
    case "subscribe":
      return collectingTool<ZenohValue>({
        tool: t.tool,
        description: t.description,
        count: t.count,
        max_count: t.max_count,
        timeoutMs: t.timeout_ms ?? defaultTimeoutMs,
        what: `sample(s) on ${t.key_expr}`,
        source: (sample) => sample.key_expr,
        subscribe: async (onItem, _onError, signal) => {
          const subscriber = await client.subscribe(t.key_expr, onItem, signal);
          return () => subscriber.undeclare();
        },
        result: (samples) => resultOf({ key_expr: t.key_expr, samples: samples.map(toJson) }),
      });
  }
}

/** Fills `{param}` chunks from the arguments; the other arguments are the payload. */
function fill(template: string, args: Record<string, unknown>) {
  // A spread keeps an argument named `__proto__` as an entry; assigning it would set the prototype.
  const rest = { ...args } as Record<string, JsonValue>;
  const keyExpr = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = own(rest, name);
    delete rest[name];
    if (value === undefined || value === null) throw new Error(`missing key parameter '${name}'`);
    const chunk = String(value);
    if (!/^[^/*$?#\s]+$/.test(chunk))
      throw new Error(`'${name}' must be one key chunk (no '/', '*', '$', '?', '#'): ${chunk}`);
    return chunk;
  });
  return { keyExpr, rest };
}

function toJson(value: ZenohValue): JsonValue {
  return { key_expr: value.key_expr, encoding: value.encoding, payload: value.payload };
}
