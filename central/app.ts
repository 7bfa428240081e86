import { Hono } from "hono";
import type { Env } from "./env";
import { health } from "./routes/health";

export const app = new Hono<{ Bindings: Env }>().route("/", health);
