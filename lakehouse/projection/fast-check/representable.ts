import { z } from "zod";
import { ASK_ZOD, type JsonSchema, SchemaCompileError } from "./compile";

/** zod schema kinds whose every rule the JSON Schema carries (and the fast check reads). */
const PLAIN = new Set([
  "string",
  "number",
  "int",
  "boolean",
  "null",
  "object",
  "record",
  "array",
  "union",
  "enum",
  "literal",
  "nullable",
  "optional",
  "default",
  "lazy",
]);

interface Def {
  type: string;
  checks?: { _zod: { def: { check: string } } }[];
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  getter?: () => z.ZodType;
}

/**
 * The JSON Schema a fast check is compiled from (zod's input side). A refined part (a rule in
 * code, which JSON Schema cannot carry) is marked for zod to judge: the check sends any value
 * reaching it to zod, and stays fast for the rest.
 */
export function fastCheckSchema(schema: z.ZodType): JsonSchema {
  assertRepresentable(schema);
  return z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "throw",
    override: ({ zodSchema, jsonSchema }) => {
      if (!isRefined(zodSchema as unknown as z.ZodType)) return;
      const marked = jsonSchema as Record<string, unknown>;
      for (const key of Object.keys(marked)) delete marked[key];
      marked[ASK_ZOD] = "a refinement";
    },
  }) as JsonSchema;
}

function isRefined(schema: z.ZodType): boolean {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  return (def.checks ?? []).some((check) => check._zod.def.check === "custom");
}

/**
 * Refuses a schema with a rule JSON Schema cannot carry and no check could find in it (a
 * transform, a pipe): a check compiled from the JSON Schema would miss it. Refinements are
 * marked instead (`fastCheckSchema`). Reads zod's definition tree (`_zod.def`, the interface zod
 * documents for tools that walk schemas).
 */
export function assertRepresentable(
  schema: z.ZodType,
  path = "$",
  seen = new Set<unknown>(),
): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  if (!PLAIN.has(def.type))
    throw new SchemaCompileError(path, `a zod '${def.type}' has rules JSON Schema does not carry`);
  const children: [string, z.ZodType | undefined][] = [
    ...Object.entries(def.shape ?? {}).map(([k, v]): [string, z.ZodType] => [`${path}.${k}`, v]),
    ...(def.options ?? []).map((o): [string, z.ZodType] => [path, o]),
    [path, def.innerType],
    [`${path}[*]`, def.element],
    [path, def.keyType],
    [path, def.valueType],
    [path, def.getter?.()],
  ];
  for (const [at, child] of children) if (child) assertRepresentable(child, at, seen);
}
