import { z } from "zod";
import { AppName, Timestamp } from "../primitives";
import { WITHHELD_MIN_LENGTH } from "../redaction/redact";

/**
 * A tenant secret's name: what an adapter declaration references as `${NAME}` and an app lists
 * in its `secrets`. The same shape as the references (edge/adapters/references.ts).
 */
export const TenantSecretName = z
  .string()
  // Not `__proto__`: a JSON object cannot carry it through a parse (it sets the prototype), so
  // such a secret could be stored and never delivered.
  .regex(
    /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,127}$/,
    "letters, digits and '_', not starting with a digit, not __proto__",
  )
  .meta({ id: "TenantSecretName" });
export type TenantSecretName = z.infer<typeof TenantSecretName>;

/** Largest secret value (a private key or a service-account JSON fits). */
export const SECRET_VALUE_MAX = 16 * 1024;

export const SecretSetRequest = z
  .strictObject({
    value: z
      .string()
      // Every value is masked wherever it appears in what the edge writes (withholdValues).
      .min(WITHHELD_MIN_LENGTH)
      .max(SECRET_VALUE_MAX),
    apps: z
      .array(AppName)
      .min(1)
      .max(64)
      .optional()
      .describe("only agents of these apps receive it (default: any app that declares it)"),
  })
  .meta({ id: "SecretSetRequest" });
export type SecretSetRequest = z.infer<typeof SecretSetRequest>;

/** What the API says about a secret: never its value. */
export const SecretInfo = z
  .object({
    name: TenantSecretName,
    apps: z.array(AppName).nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    updated_by: z.string().nullable(),
  })
  .meta({ id: "SecretInfo" });
export type SecretInfo = z.infer<typeof SecretInfo>;

export const SecretList = z.object({ secrets: z.array(SecretInfo) }).meta({ id: "SecretList" });
