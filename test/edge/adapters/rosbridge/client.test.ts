import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RosbridgeClient } from "../../../../edge/adapters/rosbridge/client";
import { FakeRosbridge } from "../../../helpers/fake-rosbridge";
import { handClock } from "../../helpers/hand-clock";

let ros: FakeRosbridge;
beforeAll(async () => {
  ros = await FakeRosbridge.start();
  ros.services.set("/echo", (args) => ({ result: true, values: args }));
  ros.services.set("/hang", () => "never");
});
afterAll(() => ros.close());

const clients: RosbridgeClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

/** A client pinging every 1000 ms (by the test's hand) with a pong deadline of 500 ms. */
function open() {
  const { clock: timers, advance } = handClock();
  const client = new RosbridgeClient(ros.url, 2_000, {
    timing: { interval_ms: 1_000, pong_timeout_ms: 500 },
    timers,
  });
  clients.push(client);
  const echo = (n: number) =>
    client.callService("/echo", undefined, { n }, new AbortController().signal);
  return { client, advance, echo };
}

describe("rosbridge client keepalive", () => {
  it("pings the connection, drops it when a pong misses its deadline, and reconnects on the next call", async () => {
    const { client, advance, echo } = open();
    const publish = () =>
      client.publish("/cmd_vel", "geometry_msgs/msg/Twist", {}, new AbortController().signal);
    const before = ros.accepted;
    expect(await echo(1)).toEqual({ n: 1 });
    advance(1_000);
    // The ping went first, so its pong is back before this answer.
    expect(await echo(2)).toEqual({ n: 2 });
    advance(500);
    expect(await echo(3)).toEqual({ n: 3 });
    expect(ros.accepted).toBe(before + 1);

    ros.silence();
    const waiting = echo(4);
    // The call goes out (and is never read) before the timers move.
    await new Promise((resolve) => setImmediate(resolve));
    advance(500);
    // This publish has the connection, but has sent nothing yet when it is found dead.
    const publishing = publish();
    advance(500);
    await expect(waiting).rejects.toThrow(
      /connection to rosbridge at ws:\/\/127\.0\.0\.1:\d+ was lost \(no pong within 500 ms of a ping\)/,
    );
    await expect(publishing).rejects.toThrow(/was lost before the advertise could be sent/);
    expect(await echo(5)).toEqual({ n: 5 });
    expect(ros.accepted).toBe(before + 2);
  });

  it("keeps a connection on which a call timed out when something was heard meanwhile", async () => {
    const { client, advance, echo } = open();
    const before = ros.accepted;
    expect(await echo(1)).toEqual({ n: 1 });
    const hanging = client.callService("/hang", undefined, {}, AbortSignal.timeout(300));
    advance(1_000);
    await expect(hanging).rejects.toThrow(/timeout/);
    expect(await echo(2)).toEqual({ n: 2 });
    expect(ros.accepted).toBe(before + 1);
  });
});
