import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { PATHS } from "../../contract";

export interface FakeCentral {
  url: string;
  /** An admin key of the tenant, in the contract's key format. */
  key: string;
  /** Stores events as central's log does: each gets the next cursor. Values are sent as given. */
  append(events: readonly object[]): void;
  /** `after` values of the event pages asked for. */
  pages: number[];
  /** Answer the next `n` requests with 503, as a central being redeployed would. */
  failNext(n: number): void;
  close(): Promise<void>;
}

/**
 * Central's `GET /v1/events?after=&limit=` as the contract describes it (bearer auth, pages of
 * StoredEvents in cursor order, `ApiError` bodies), for testing the memory projector before and
 * apart from the real Durable Object. Pages hold at most `pageLimit` events.
 */
export async function startFakeCentral(tenant = "lab", pageLimit = 100): Promise<FakeCentral> {
  const key = `aur_admin_${tenant}_${"k".repeat(43)}`;
  const log: object[] = [];
  const pages: number[] = [];
  let failing = 0;
  const app = new Hono();
  app.get(PATHS.events, (c) => {
    if (failing > 0) {
      failing -= 1;
      return c.json({ error: { code: "unavailable", message: "central is restarting" } }, 503);
    }
    if (c.req.header("authorization") !== `Bearer ${key}`)
      return c.json({ error: { code: "unauthorized", message: "invalid API key" } }, 401);
    const after = Number(c.req.query("after") ?? 0);
    const limit = Math.min(Number(c.req.query("limit") ?? pageLimit), pageLimit);
    if (!Number.isInteger(after) || after < 0 || !Number.isInteger(limit) || limit < 1)
      return c.json(
        {
          error: {
            code: "invalid_request",
            message: "bad paging",
            issues: [
              { path: "after", expected: "integer >= 0", message: "bad", code: "invalid_type" },
            ],
          },
        },
        400,
      );
    pages.push(after);
    const events = log.slice(after, after + limit);
    const next = after + events.length;
    return c.json({ events, next_cursor: next, has_more: next < log.length });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    key,
    pages,
    failNext(n) {
      failing = n;
    },
    append(events) {
      for (const event of events) log.push({ ...event, cursor: log.length + 1 });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
