import { appendFileSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AgentEvent, type EdgeMessage, uuidv7 } from "../../../contract";
import { EventDelivery } from "../../../edge/fleet/delivery";
import type { CentralLink } from "../../../edge/fleet/link";
import { Outbox } from "../../../edge/outbox/outbox";
import { RejectedEvents } from "../../../edge/outbox/rejected";
import { STANDALONE_TENANT } from "../../../edge/runtime";
import { until } from "../helpers/edge-process";
import { messageEvent } from "../helpers/events";

/**
 * An outbox of `count` events, and delivery to a central stand-in that acknowledges each batch a
 * moment after it is sent, refusing the events `refuse` picks.
 */
async function delivering(options: {
  count: number;
  tenant?: string;
  sessionTenant?: string;
  refuse?: (event: AgentEvent) => boolean;
  /** Make the rejected file unwritable (a directory in its place) once it is opened. */
  breakRejected?: boolean;
  beforeStart?: (dir: string) => void;
}) {
  const base = mkdtempSync(join(tmpdir(), "delivery-"));
  const dir = join(base, "outbox");
  const outbox = await Outbox.open(dir);
  options.beforeStart?.(dir);
  const run = uuidv7();
  for (let i = 0; i < options.count; i++)
    await outbox.append({ ...messageEvent(run, i), tenant: options.tenant ?? "lab" });
  const rejected = await RejectedEvents.open(join(base, "outbox.rejected.jsonl"));
  if (options.breakRejected) mkdirSync(rejected.path);
  const sent: AgentEvent[] = [];
  const logged: string[] = [];
  let delivery: EventDelivery | null = null;
  const link = {
    connected: false,
    session: { tenant: options.sessionTenant ?? "lab" },
    send(message: EdgeMessage) {
      if (message.type !== "events") return false;
      const events = message.events as AgentEvent[];
      sent.push(...events);
      setTimeout(() =>
        delivery!.acknowledged({
          type: "events_ack",
          batch_id: message.batch_id,
          stored: events.filter((e) => !options.refuse?.(e)).map((e) => e.event_id),
          duplicates: 0,
          rejected: events.flatMap((e, index) =>
            options.refuse?.(e)
              ? [
                  {
                    index,
                    event_id: e.event_id,
                    issues: [
                      { path: "tenant", expected: "acme", message: "wrong tenant", code: "custom" },
                    ],
                  },
                ]
              : [],
          ),
        }),
      );
      return true;
    },
    reconnect() {},
  };
  delivery = new EventDelivery(outbox, link as unknown as CentralLink, {
    batchEvents: 2,
    retryMs: 400,
    rejected,
    log: (line) => logged.push(line),
  });
  link.connected = true;
  delivery.connected();
  return { outbox, delivery, sent, logged, rejected };
}

describe("EventDelivery", () => {
  it("goes on delivering when the delivered mark cannot be saved", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    // Every write of the mark fails (EISDIR, as ENOSPC would).
    const { outbox, delivery, sent, logged } = await delivering({
      count: 6,
      beforeStart: (dir) => mkdirSync(`${dir}.acked.tmp`),
    });
    try {
      expect(await delivery.drained(5_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(sent.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(logged.some((l) => l.includes("could not save the delivered mark"))).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await outbox.close();
    }
  });

  it("keeps what central refuses, with its reasons, before moving past it", async () => {
    const { outbox, delivery, rejected, logged } = await delivering({
      count: 5,
      refuse: (e) => e.seq === 1 || e.seq === 4,
    });
    try {
      expect(await delivery.drained(5_000)).toBe(true);
      expect(rejected.count).toBe(2);
      const kept = readFileSync(rejected.path, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: AgentEvent; issues: { path: string }[] });
      expect(kept.map((k) => [k.event.seq, k.issues[0]!.path])).toEqual([
        [1, "tenant"],
        [4, "tenant"],
      ]);
      expect((await RejectedEvents.open(rejected.path)).count).toBe(2);
      expect(logged.filter((l) => l.includes("central rejected event"))).toHaveLength(2);
    } finally {
      await outbox.close();
    }
  });

  it("sends a refused batch again, after a while, when the refused events cannot be kept", async () => {
    const { outbox, delivery, sent, logged } = await delivering({
      count: 2,
      refuse: (e) => e.seq === 0,
      breakRejected: true,
    });
    try {
      expect(await delivery.drained(100)).toBe(false);
      expect(logged.some((l) => l.includes("could not keep the events central refused"))).toBe(
        true,
      );
      // Not again at once, not even for a new event: a refusal is not to be repeated in a loop.
      await outbox.append(messageEvent(uuidv7(), 0));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(sent.map((e) => e.seq)).toEqual([0, 1]);
      expect(outbox.pending).toBe(3);
      await until(() => sent.length > 2);
      expect(sent.slice(2, 4).map((e) => e.seq)).toEqual([0, 1]);
    } finally {
      await outbox.close();
    }
  });

  it("keeps each refused event once, whatever a crash left at the file's end", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "rejected-")), "outbox.rejected.jsonl");
    const issues = [{ path: "tenant", expected: "acme", message: "wrong", code: "custom" }];
    const [a, b] = [messageEvent(uuidv7(), 0), messageEvent(uuidv7(), 0)];
    const rejected = await RejectedEvents.open(path);
    await rejected.add([{ event: a, issues }]);
    await rejected.add([{ event: a, issues }]);
    expect(rejected.count).toBe(1);
    appendFileSync(path, '{"issues": [], "event": {"event_id": "cut sh');
    const reopened = await RejectedEvents.open(path);
    expect(reopened.count).toBe(1);
    await reopened.add([
      { event: a, issues },
      { event: b, issues },
    ]);
    expect(reopened.count).toBe(2);
    const lines = readFileSync(path, "utf8").split("\n");
    expect(
      lines.filter((l) => l.startsWith('{"issues":[{')).map((l) => JSON.parse(l).event.event_id),
    ).toEqual([a.event_id, b.event_id]);
    expect((await RejectedEvents.open(path)).count).toBe(2);
  });

  it("gives what the agent ran on its own the tenant of the central it delivers to", async () => {
    const { outbox, delivery, sent } = await delivering({
      count: 3,
      tenant: STANDALONE_TENANT,
      sessionTenant: "acme",
    });
    try {
      expect(await delivery.drained(5_000)).toBe(true);
      expect(sent.map((e) => e.tenant)).toEqual(["acme", "acme", "acme"]);
      // The outbox keeps what was written; only what is sent carries central's tenant.
      expect((await outbox.read(0, 10)).events.map((e) => e.tenant)).toEqual([
        STANDALONE_TENANT,
        STANDALONE_TENANT,
        STANDALONE_TENANT,
      ]);
    } finally {
      await outbox.close();
    }
  });
});
