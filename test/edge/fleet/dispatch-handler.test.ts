import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { type EdgeMessage, nowTs, uuidv7 } from "../../../contract";
import { DispatchHandler } from "../../../edge/fleet/dispatch-handler";
import type { CentralLink } from "../../../edge/fleet/link";
import type { EdgeRuntime } from "../../../edge/runtime";
import { until } from "../helpers/edge-process";
import type { FauxStep } from "../helpers/faux";
import { intentFor } from "../helpers/intents";
import { labServer } from "../helpers/lab-server";
import { makeApp, ofKind, openRuntime } from "../helpers/runtime";

/** A lab API that records the authorization each call carried. */
const seen: (string | undefined)[] = [];
const lab = new Hono().get("/api/samples/:id", (c) => {
  seen.push(c.req.header("authorization"));
  return c.json({ id: c.req.param("id"), mass_g: 1 });
});
const served = labServer(lab);

let runtime: EdgeRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

/**
 * A dispatcher on a stand-in for central's socket: each claim is granted with a lease of
 * `leaseMs` and a secrets handle; `redeem` answers the redemption (after `redeemAfterMs`).
 */
async function dispatcher(
  steps: FauxStep[],
  options: {
    leaseMs: number;
    redeemAfterMs?: number;
    /** Called with each line the handler logs, as it logs it. */
    onLine?: (line: string, handler: DispatchHandler) => void;
  },
) {
  const app = makeApp({
    appJson: { secrets: ["LAB_TOKEN"] },
    adapters: {
      "lab-api": {
        kind: "http-json",
        name: "lab-api",
        base_url: `${served.url()}/api`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the declaration's own syntax
        headers: { authorization: "Bearer ${LAB_TOKEN}" },
        endpoints: [
          {
            tool: "lab_get_sample",
            description: "Fetch one sample.",
            method: "GET",
            path: "/samples/{id}",
            input_schema: { type: "object", properties: { id: { type: "string" } } },
          },
        ],
      },
    },
  });
  runtime = await openRuntime(app, steps, { env: { LAB_TOKEN: "" } });
  const lines: string[] = [];
  let handler!: DispatchHandler;
  const link = {
    connected: true,
    session: { tenant: "lab" },
    send(m: EdgeMessage) {
      if (m.type === "claim")
        setTimeout(() =>
          handler.claimed({
            type: "claimed",
            run_id: m.run_id,
            attempt: m.attempt,
            lease_expires_at: nowTs(Date.now() + options.leaseMs),
            secrets_handle: "handle-1",
          }),
        );
      if (m.type === "redeem_secrets")
        setTimeout(
          () =>
            handler.secrets({
              type: "secrets",
              run_id: m.run_id,
              attempt: m.attempt,
              values: { LAB_TOKEN: "lab-t0ken-value" },
              missing: [],
              refused: null,
            }),
          options.redeemAfterMs ?? 0,
        );
      return true;
    },
    reconnect() {},
  };
  handler = new DispatchHandler(runtime, link as unknown as CentralLink, (l) => {
    lines.push(l);
    options.onLine?.(l, handler);
  });
  const runId = uuidv7();
  const dispatched = handler.dispatch({
    type: "dispatch",
    run_id: runId,
    attempt: 1,
    intent: intentFor("act on the lab") as never,
    ack_timeout_ms: 5_000,
  });
  return { runtime, handler, lines, runId, dispatched };
}

const lapsed = (lines: string[]) => lines.some((l) => l.includes("lease ran out"));

describe("dispatch under a lease", () => {
  it("does not start a run whose lease ran out while its secrets were being redeemed", async () => {
    const { runtime, lines, runId, dispatched } = await dispatcher([{ text: "must not run" }], {
      leaseMs: 150,
      redeemAfterMs: 500,
    });
    await dispatched;
    expect(lapsed(lines)).toBe(true);
    expect(runtime.runs.isActive(runId)).toBe(false);
    expect(runtime.runs.get(runId)?.status).toBe("dispatched");
    expect(await runtime.eventsOf(runId)).toEqual([]);
  });

  it("goes on with a run renewed while it was stopping, with the secrets its claim redeemed", async () => {
    const before = seen.length;
    let renewed: Promise<void> | undefined;
    let activeWhenRenewed: boolean | undefined;
    const started = await dispatcher(
      [
        { tool: "bash", args: { command: "sleep 30" } },
        { tool: "lab_get_sample", args: { id: "s-1" } },
        { text: "done after the renewal" },
      ],
      {
        leaseMs: 400,
        // Central's renewal reaches the agent while the run it stopped is still stopping: right
        // after the stop began (the handler logs the lapse as it starts the stop), not whenever
        // a poll happens to look, by which time a quick stop may be over.
        onLine: (line, handler) => {
          if (!line.includes("lease ran out") || renewed) return;
          const run = /^run (\S+) /.exec(line)![1]!;
          setImmediate(() => {
            activeWhenRenewed = runtime!.runs.isActive(run);
            renewed = handler.lease({
              type: "lease",
              run_id: run,
              attempt: 1,
              lease_expires_at: nowTs(Date.now() + 60_000),
            });
          });
        },
      },
    );
    await until(() => renewed !== undefined);
    await renewed;
    expect(activeWhenRenewed).toBe(true);
    const runs = started.runtime.runs;
    await until(() => runs.get(started.runId)?.status === "completed");
    expect(runs.get(started.runId)?.result).toBe("done after the renewal");
    expect(seen.slice(before)).toEqual(["Bearer lab-t0ken-value"]);
  });

  it("settles a run stopped at its lease's end when central cancels it, logging run_cancelled", async () => {
    const { runtime, handler, lines, runId } = await dispatcher(
      [{ tool: "bash", args: { command: "sleep 30" } }, { text: "never" }],
      { leaseMs: 300 },
    );
    await until(() => lapsed(lines) && !runtime.runs.isActive(runId));
    const logged = await runtime.eventsOf(runId);
    await handler.cancel({ type: "cancel", run_id: runId, reason: "given to another agent" });
    expect(runtime.runs.get(runId)).toMatchObject({
      status: "cancelled",
      error: { category: "cancelled", message: "given to another agent" },
    });
    const events = await runtime.eventsOf(runId);
    expect(events.slice(0, logged.length)).toEqual(logged);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(ofKind(events, "run_cancelled").map((e) => e.payload)).toMatchObject([
      { reason: "given to another agent", by: "central" },
    ]);
  });
});
