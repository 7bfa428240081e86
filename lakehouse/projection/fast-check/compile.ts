/**
 * Compiles a JSON Schema (the contract's, generated from its zod definitions) into a JavaScript
 * predicate that accepts a parsed JSON value only when it is valid *and* already what the
 * contract's zod parser would return: no unknown keys (zod strips them), every defaulted key
 * present (zod fills them in). For such a value zod's output equals the value, so the projector
 * can skip zod. Everything else (an invalid value, a value zod would change, a schema construct
 * that only zod can judge) is refused, and the caller runs zod, which has the last word and the
 * field paths for the quarantine.
 *
 * Generated code rather than a library (ajv) because the predicate must also decide "zod would
 * return it unchanged", which no validator answers; a keyword it does not know makes compilation
 * throw, so a contract change cannot silently weaken the check.
 */

import { MAX_JSON_DEPTH } from "../../../contract/validation";

export type JsonSchema = Record<string, unknown>;

/** Marks a part of a schema only zod can judge (a refinement): a value reaching it goes to zod. */
export const ASK_ZOD = "x-auraison-ask-zod";

const KNOWN = new Set([
  ASK_ZOD,
  "$ref",
  "$defs",
  "$schema",
  "$id",
  "id",
  "title",
  "description",
  "type",
  "properties",
  "required",
  "default",
  "anyOf",
  "oneOf",
  "enum",
  "const",
  "pattern",
  "format",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "items",
  "maxItems",
  "minItems",
  "propertyNames",
  "additionalProperties",
]);

export class SchemaCompileError extends Error {
  constructor(path: string, message: string) {
    super(`cannot compile the contract's JSON Schema at ${path}: ${message}`);
    this.name = "SchemaCompileError";
  }
}

export interface CompileOptions {
  /** Keys the root object may carry beyond the schema's (a StoredEvent's cursor). */
  extraRootKeys?: readonly string[];
}

/**
 * Compiles `schema` into `(value) => number`: -1 for "ask zod", else the number of object keys
 * the value holds, at every depth (see the module comment). A caller that has the JSON text can
 * compare it with the keys the text spells out: JSON.parse keeps one of repeated keys, so fewer
 * keys in the value than in the text means the text repeats a key.
 */
export function compileFastCheck(
  schema: JsonSchema,
  options: CompileOptions = {},
): (value: unknown) => number {
  const generator = new Generator((schema.$defs ?? {}) as Record<string, JsonSchema>);
  const body = generator.check(schema, "v", "$", options.extraRootKeys ?? []);
  const factory = new Function(
    "patterns",
    "jsonKeys",
    `return function check(v) {\nlet keys = 0;\n${body}\nreturn keys;\n}`,
  );
  return factory(generator.patterns, jsonKeys) as (value: unknown) => number;
}

/**
 * The keys in a value zod's JsonValue accepts, or -1: of what JSON.parse returns, it refuses
 * only Infinity (from 1e400), and the contract's `check` anything nested deeper than
 * MAX_JSON_DEPTH (`depth` is the value's own, the event being 1), before it could overflow the
 * stack, as this recursion would.
 */
function jsonKeys(value: unknown, depth: number): number {
  if (typeof value === "number") return Number.isFinite(value) ? 0 : -1;
  if (value === null || typeof value !== "object") return 0;
  if (depth > MAX_JSON_DEPTH) return -1;
  let keys = 0;
  if (Array.isArray(value)) {
    for (const item of value) {
      const inner = jsonKeys(item, depth + 1);
      if (inner < 0) return -1;
      keys += inner;
    }
    return keys;
  }
  for (const key in value) {
    if (key === "__proto__") return -1;
    const inner = jsonKeys((value as Record<string, unknown>)[key], depth + 1);
    if (inner < 0) return -1;
    keys += inner + 1;
  }
  return keys;
}

class Generator {
  readonly patterns: RegExp[] = [];
  private vars = 0;

  constructor(private readonly defs: Record<string, JsonSchema>) {}

  private resolve(schema: JsonSchema, at: string): JsonSchema {
    let s = schema;
    for (let depth = 0; typeof s.$ref === "string"; depth++) {
      const match = /^#\/\$defs\/(.+)$/.exec(s.$ref);
      const target = match ? this.defs[match[1]!] : undefined;
      if (!target || depth > 16) throw new SchemaCompileError(at, `unresolvable $ref ${s.$ref}`);
      s = target;
    }
    for (const key of Object.keys(s))
      if (!KNOWN.has(key)) throw new SchemaCompileError(at, `unknown keyword '${key}'`);
    return s;
  }

  private fresh(): string {
    this.vars += 1;
    return `x${this.vars}`;
  }

  /** Statements that `return -1` unless the value in variable `x` passes, and count its keys. */
  check(input: JsonSchema, x: string, at: string, extraKeys: readonly string[] = []): string {
    const s = this.resolve(input, at);
    if (s[ASK_ZOD] !== undefined) return "return -1;";
    if (Array.isArray(s.anyOf)) return this.anyOf(s, x, at);
    if (Array.isArray(s.oneOf)) return this.oneOf(s.oneOf as JsonSchema[], x, at, extraKeys);
    if (s.const !== undefined) return `if (${x} !== ${JSON.stringify(s.const)}) return -1;`;
    if (Array.isArray(s.enum))
      return `if (!(${s.enum.map((e) => `${x} === ${JSON.stringify(e)}`).join(" || ")})) return -1;`;
    switch (s.type) {
      case "object":
        return this.object(s, x, at, extraKeys);
      case "array":
        return this.array(s, x, at);
      case "string":
        return this.string(s, x);
      case "integer":
      case "number":
        return this.number(s, x);
      case "boolean":
        return `if (typeof ${x} !== "boolean") return -1;`;
      case "null":
        return `if (${x} !== null) return -1;`;
      case undefined:
        // `{}`: anything, or a rule zod could not express in JSON Schema; zod decides.
        return "return -1;";
      default:
        throw new SchemaCompileError(at, `type ${JSON.stringify(s.type)}`);
    }
  }

  private string(s: JsonSchema, x: string): string {
    // zod measures length in UTF-16 code units, as String.prototype.length does.
    const fails = [`typeof ${x} !== "string"`];
    if (typeof s.minLength === "number") fails.push(`${x}.length < ${s.minLength}`);
    if (typeof s.maxLength === "number") fails.push(`${x}.length > ${s.maxLength}`);
    if (typeof s.pattern === "string") {
      this.patterns.push(new RegExp(s.pattern));
      fails.push(`!patterns[${this.patterns.length - 1}].test(${x})`);
    }
    return `if (${fails.join(" || ")}) return -1;`;
  }

  private number(s: JsonSchema, x: string): string {
    const fails = [
      `typeof ${x} !== "number"`,
      s.type === "integer" ? `!Number.isInteger(${x})` : `!Number.isFinite(${x})`,
    ];
    if (typeof s.minimum === "number") fails.push(`${x} < ${s.minimum}`);
    if (typeof s.maximum === "number") fails.push(`${x} > ${s.maximum}`);
    if (typeof s.exclusiveMinimum === "number") fails.push(`${x} <= ${s.exclusiveMinimum}`);
    if (typeof s.exclusiveMaximum === "number") fails.push(`${x} >= ${s.exclusiveMaximum}`);
    return `if (${fails.join(" || ")}) return -1;`;
  }

  private anyOf(s: JsonSchema, x: string, at: string): string {
    const resolved = (s.anyOf as JsonSchema[]).map((o) => this.resolve(o, at));
    const nonNull = resolved.filter((o) => o.type !== "null");
    if (resolved.length === 2 && nonNull.length === 1)
      return `if (${x} !== null) {\n${this.check(nonNull[0]!, x, at)}\n}`;
    if (!this.anyJson(s, resolved, at))
      // Another union: zod returns what the first option that parses makes of the value, which
      // a check of each option alone cannot tell.
      return "return -1;";
    // Any JSON value (JsonValue): whatever JSON.parse returned, but Infinity and what nests
    // too deep. Each step of the path (`.key`, `.*`, `[*]`) is a level below the event's.
    const depth = at.split(/\.|\[\*\]/).length;
    const k = this.fresh();
    return `const ${k} = jsonKeys(${x}, ${depth});\nif (${k} < 0) return -1;\nkeys += ${k};`;
  }

  /**
   * Whether `s` (whose options are `options`) is any JSON value: a string, number, boolean,
   * null, an array of `s` or an object of `s`, with no other rule.
   */
  private anyJson(s: JsonSchema, options: JsonSchema[], at: string): boolean {
    const types = options.map((o) => String(o.type)).sort();
    if (types.join() !== "array,boolean,null,number,object,string") return false;
    const plain = (o: JsonSchema, allowed: string[]) =>
      Object.keys(o).every((k) => k === "type" || allowed.includes(k));
    return options.every((o) => {
      if (o.type === "array")
        return plain(o, ["items"]) && this.resolve(o.items as JsonSchema, at) === s;
      if (o.type === "object") {
        const names = o.propertyNames as JsonSchema | undefined;
        return (
          plain(o, ["additionalProperties", "propertyNames"]) &&
          this.resolve(o.additionalProperties as JsonSchema, at) === s &&
          (names === undefined || (names.type === "string" && plain(names, [])))
        );
      }
      return plain(o, []);
    });
  }

  /** A discriminated union: object options told apart by one `const` property. */
  private oneOf(
    options: JsonSchema[],
    x: string,
    at: string,
    extraKeys: readonly string[],
  ): string {
    const objects = options.map((o) => this.resolve(o, at));
    const props = objects.map((o) => (o.properties ?? {}) as Record<string, JsonSchema>);
    const tag = Object.keys(props[0] ?? {}).find((k) =>
      props.every((p) => p[k] && typeof this.resolve(p[k]!, at).const === "string"),
    );
    if (!tag) throw new SchemaCompileError(at, "oneOf without a discriminating const property");
    const cases = objects.map((o, i) => {
      const value = this.resolve(props[i]![tag]!, at).const as string;
      return `case ${JSON.stringify(value)}: {\n${this.object(o, x, at, extraKeys)}\nbreak;\n}`;
    });
    return `if (typeof ${x} !== "object" || ${x} === null) return -1;\nswitch (${x}[${JSON.stringify(tag)}]) {\n${cases.join("\n")}\ndefault: return -1;\n}`;
  }

  private object(s: JsonSchema, x: string, at: string, extraKeys: readonly string[]): string {
    const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
    const lines = [
      `if (typeof ${x} !== "object" || ${x} === null || Array.isArray(${x})) return -1;`,
    ];
    if (s.additionalProperties !== undefined) {
      if (Object.keys(properties).length > 0)
        throw new SchemaCompileError(at, "properties with additionalProperties");
      const value = this.resolve(s.additionalProperties as JsonSchema, at);
      const k = this.fresh();
      const e = this.fresh();
      lines.push(
        `for (const ${k} in ${x}) {\nif (${k} === "__proto__") return -1;\nkeys++;\nconst ${e} = ${x}[${k}];\n${this.check(value, e, `${at}.*`)}\n}`,
      );
      return lines.join("\n");
    }
    const required = new Set((s.required ?? []) as string[]);
    const count = this.fresh();
    lines.push(`let ${count} = 0;`);
    for (const [key, child] of Object.entries(properties)) {
      const name = JSON.stringify(key);
      const v = this.fresh();
      const read =
        key in Object.prototype
          ? `(Object.hasOwn(${x}, ${name}) ? ${x}[${name}] : undefined)`
          : `${x}[${name}]`;
      lines.push(`const ${v} = ${read};`);
      // A defaulted key left out is valid, but zod would add it: not returned unchanged.
      const absent =
        required.has(key) || this.resolve(child, at).default !== undefined ? "return -1;" : "";
      lines.push(
        `if (${v} === undefined) {${absent}} else {\n${count}++;\n${this.check(child, v, `${at}.${key}`)}\n}`,
      );
    }
    for (const key of extraKeys)
      lines.push(`if (${x}[${JSON.stringify(key)}] !== undefined) ${count}++;`);
    // Unknown keys: zod would strip them.
    lines.push(`if (Object.keys(${x}).length !== ${count}) return -1;\nkeys += ${count};`);
    return lines.join("\n");
  }

  private array(s: JsonSchema, x: string, at: string): string {
    const fails = [`!Array.isArray(${x})`];
    if (typeof s.maxItems === "number") fails.push(`${x}.length > ${s.maxItems}`);
    if (typeof s.minItems === "number") fails.push(`${x}.length < ${s.minItems}`);
    if (s.items === undefined) throw new SchemaCompileError(at, "array without items");
    const i = this.fresh();
    const e = this.fresh();
    return `if (${fails.join(" || ")}) return -1;\nfor (let ${i} = 0; ${i} < ${x}.length; ${i}++) {\nconst ${e} = ${x}[${i}];\n${this.check(s.items as JsonSchema, e, `${at}[*]`)}\n}`;
  }
}
