import { type TSchema, type TUnsafe, Type } from "typebox";
import { z } from "zod";

/**
 * pi's tools declare their parameters as TypeBox schemas and validate model-produced arguments
 * with TypeBox's compiler, which accepts plain JSON Schema. So a contract (zod) schema becomes a
 * pi tool schema by way of its JSON Schema, typed with the zod output type.
 */
export function toTypeBox<S extends z.ZodType>(schema: S): TUnsafe<z.output<S>> & TSchema {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
    target: "draft-7",
  }) as Record<string, unknown>;
  return Type.Unsafe<z.output<S>>(json);
}
