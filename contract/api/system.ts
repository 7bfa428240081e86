import { z } from "zod";

/** `GET /health`: the Worker answered after reaching a Durable Object. */
export const Health = z.object({ ok: z.boolean(), contract: z.string() }).meta({ id: "Health" });
export type Health = z.infer<typeof Health>;
