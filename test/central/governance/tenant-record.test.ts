import { describe, expect, it } from "vitest";
import { DEFAULT_TENANT_SETTINGS, TenantSettings } from "../../../contract";
import { call, json, newTenant } from "../support";

describe("tenant settings", () => {
  it("start at the defaults and are replaced by PUT (omitted fields take defaults)", async () => {
    const { admin } = await newTenant();
    expect(await json(await call("GET", "/v1/settings", { key: admin }), 200)).toEqual(
      DEFAULT_TENANT_SETTINGS,
    );
    const put = TenantSettings.parse(
      await json(
        await call("PUT", "/v1/settings", {
          key: admin,
          body: { heartbeat: { interval_ms: 1_000 }, dispatch: { lease_ms: 5_000 } },
        }),
        200,
      ),
    );
    expect(put.heartbeat.interval_ms).toBe(1_000);
    expect(put.dispatch).toEqual({
      ack_timeout_ms: 10_000,
      lease_ms: 5_000,
      queue_timeout_ms: 3_600_000,
    });
    expect(put.retry).toEqual(DEFAULT_TENANT_SETTINGS.retry);
    expect(await json(await call("GET", "/v1/settings", { key: admin }), 200)).toEqual(put);
  });

  it("refuses inconsistent timings with the field path and keeps the old settings", async () => {
    const { admin } = await newTenant();
    const refused = await json<{ error: { issues: { path: string }[] } }>(
      await call("PUT", "/v1/settings", {
        key: admin,
        body: { heartbeat: { interval_ms: 10_000 }, dispatch: { lease_ms: 5_000 } },
      }),
      // Matches the schema, breaks a rule between fields.
      422,
    );
    expect(refused.error.issues[0]!.path).toBe("dispatch.lease_ms");
    const typo = await json<{ error: { issues: { path: string; code: string }[] } }>(
      await call("PUT", "/v1/settings", { key: admin, body: { heartbeats: {} } }),
      400,
    );
    expect(typo.error.issues[0]).toMatchObject({ code: "unrecognized_keys" });
    expect(await json(await call("GET", "/v1/settings", { key: admin }), 200)).toEqual(
      DEFAULT_TENANT_SETTINGS,
    );
  });
});
