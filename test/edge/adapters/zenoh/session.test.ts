import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routerUrl, ZenohClient, type ZenohValue } from "../../../../edge/adapters/zenoh/session";
import { startZenohRouter } from "../../../helpers/zenoh";

/** Against a real Zenoh router (built by `npm run peers`), restarted where it was. */
let router: Awaited<ReturnType<typeof startZenohRouter>>;
beforeAll(async () => {
  router = await startZenohRouter();
}, 60_000);
afterAll(() => router?.proc.stop());

describe("zenoh session", { timeout: 60_000 }, () => {
  it("drops a session the router did not answer a subscription on before the call ended, so the next call reconnects", async () => {
    const client = new ZenohClient(routerUrl(router.locator), 3_000);
    const publisher = new ZenohClient(routerUrl(router.locator), 3_000);
    try {
      await (await client.subscribe("lab/odom", () => {}, AbortSignal.timeout(3_000))).undeclare();
      await router.proc.stop();
      router = await startZenohRouter(router.ports);

      // The session still held went with the old router: its subscription goes unanswered.
      const deadline = AbortSignal.timeout(500);
      const unanswered = client.subscribe("lab/odom", () => {}, deadline);
      unanswered.catch(() => undefined);
      await new Promise((resolve) => deadline.addEventListener("abort", resolve, { once: true }));

      const samples: ZenohValue[] = [];
      const subscriber = await client.subscribe(
        "lab/odom",
        (sample) => samples.push(sample),
        AbortSignal.timeout(3_000),
      );
      for (let seq = 0; seq < 50 && samples.length === 0; seq++) {
        await publisher.put("lab/odom", { seq });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(samples[0]).toMatchObject({ key_expr: "lab/odom", payload: { seq: 0 } });
      await subscriber.undeclare();
      await expect(unanswered).rejects.toThrow(
        /the zenoh router did not confirm the subscription: Remote api request timeout/,
      );
    } finally {
      await client.close();
      await publisher.close();
    }
  });
});
