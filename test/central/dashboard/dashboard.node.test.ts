import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ManagedProcess } from "../../../cli/local-stack/processes";
import {
  AgentList,
  AuditList,
  CentralClient,
  EventsPage,
  IngestResult,
  IntentAccepted,
  KeyInfo,
  PATHS,
  Plan,
  PlanAccepted,
  RunState,
  uuidv7,
} from "../../../contract";
import {
  type CentralDev,
  createKey,
  createKeyRecord,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { SAMPLE_APP, startSampleEdge } from "../../helpers/platform-processes";

/** Debian's chromium, as CI installs it; the flags keep it off this machine's closed network. */
const CHROMIUM = process.env.AURAISON_CHROMIUM ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** Set to docs/dashboard to refresh the README's screenshots; by default they go to a temp dir. */
const SHOTS = process.env.AURAISON_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), "auraison-shots-"));

/**
 * The dashboard in a real browser against central under `wrangler dev` with a real edge agent
 * (the lab-notes app's scripted scenario, its third step slowed so a run can be caught running).
 */
describe("dashboard (chromium, wrangler dev, a real edge agent)", { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "auraison-dashboard-"));
  let central: CentralDev;
  let admin: CentralClient;
  let adminKey = "";
  let viewerKey = "";
  let agentKey = "";
  let edge: ManagedProcess | null = null;
  let browser: Browser;

  const waitFor = async <T>(what: string, probe: () => Promise<T | null | undefined | false>) => {
    const until = Date.now() + 60_000;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const submit = () =>
    admin.request("POST", PATHS.intents, IntentAccepted, {
      targets: [{ app: "lab-notes" }],
      params: { prompt: "summarise the notebook" },
    });

  const signedIn = async (key: string, viewport = { width: 1280, height: 800 }) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    page.on("pageerror", (e) => console.log("PAGEERROR", e.message));
    page.on("console", (m) => console.log("CONSOLE", m.text()));
    await page.goto(central.url);
    await page.locator("#key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#nav").waitFor({ state: "visible" });
    return page;
  };

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    central = await startCentralDev();
    adminKey = await createTenant(central.url, central.bootstrapKey, "lab");
    admin = new CentralClient({ url: central.url, key: adminKey });
    viewerKey = await createKey(central.url, adminKey, "viewer", "a viewer");
    agentKey = await createKey(central.url, adminKey, "agent", "lab host", "lab-notes");
    const app = join(root, "lab-notes");
    cpSync(SAMPLE_APP, app, { recursive: true });
    const scenario = JSON.parse(readFileSync(join(app, "scripted-model.json"), "utf8"));
    scenario.steps[2].delay_ms = 6_000;
    writeFileSync(join(app, "scripted-model.json"), JSON.stringify(scenario));
    edge = startSampleEdge({
      agentId: "host-1.lab-notes",
      state: join(root, "edge"),
      central: { url: central.url, key: agentKey },
      model: "scripted/lab-notes",
      appDir: app,
    });
    await waitFor("the agent online", async () => {
      const { agents } = await admin.request("GET", PATHS.agents, AgentList);
      return agents.some((a) => a.status === "online");
    });
    mkdirSync(SHOTS, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await edge?.stop("SIGKILL", 0);
    await central?.stop();
  });

  it("signs in with a key it does not keep, and shows the fleet", async () => {
    const page = await signedIn(adminKey);
    await expect
      .poll(() => page.locator('tr[data-agent="host-1.lab-notes"] .status').textContent())
      .toBe("online");
    expect(await page.locator("#who").textContent()).toBe("lab · admin");
    // Runs in the page: what a script there could read after signing in.
    const kept = await page.evaluate(() => {
      const w = globalThis as unknown as {
        document: { cookie: string; getElementById(id: string): { value: string } | null };
        localStorage: object;
        sessionStorage: object;
      };
      return {
        cookie: w.document.cookie,
        local: JSON.stringify(w.localStorage),
        session: JSON.stringify(w.sessionStorage),
        input: w.document.getElementById("key")?.value ?? "",
      };
    });
    expect(kept).toEqual({ cookie: "", local: "{}", session: "{}", input: "" });
    await shot(page, "fleet");
    const phone = await signedIn(adminKey, { width: 390, height: 844 });
    await phone.locator('tr[data-agent="host-1.lab-notes"]').waitFor();
    await shot(phone, "fleet-phone");
    await phone.context().close();
    await page.context().close();
  });

  it("shows a run appear and complete live, with its timeline, tool calls, model calls and cost", async () => {
    const page = await signedIn(adminKey);
    await page.goto(`${central.url}/#/runs`);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    const accepted = await submit();
    const row = page.locator(`tr[data-run="${accepted.run.run_id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect
      .poll(() => row.locator(".status").textContent(), { timeout: 30_000 })
      .toBe("completed");
    await shot(page, "runs");
    await row.getByRole("link").click();
    await page.locator('#timeline li[data-kind="run_completed"]').waitFor();
    expect(await page.locator("#run-status .status").textContent()).toBe("completed");
    expect(await page.locator('#timeline li[data-kind="tool_call_finished"]').count()).toBe(5);
    await shot(page, "run");
    await page.context().close();
  });

  it("cancels a running run from the page, and the edge stops it", async () => {
    const page = await signedIn(adminKey);
    const accepted = await submit();
    const id = accepted.run.run_id;
    await page.goto(`${central.url}/#/runs/${id}`);
    await expect
      .poll(() => page.locator("#run-status .status").textContent(), { timeout: 30_000 })
      .toBe("running");
    await page.locator("#cancel-run").click();
    await expect
      .poll(() => page.locator("#run-status .status").textContent(), { timeout: 30_000 })
      .toBe("cancelled");
    const run = await admin.request("GET", `${PATHS.runs}/${id}`, RunState);
    expect(run.status).toBe("cancelled");
    const events = await waitFor("the edge's account of the cancellation", async () => {
      const page = await admin.request("GET", `${PATHS.events}?run=${id}&limit=1000`, EventsPage);
      return page.events.some((e) => e.kind === "run_cancelled" && e.source === "edge")
        ? page.events
        : null;
    });
    // The run stopped where it was: the scenario's later steps never ran.
    expect(events.filter((e) => e.kind === "tool_call_finished").length).toBeLessThan(5);
    const audit = await admin.request("GET", `${PATHS.audit}?limit=20`, AuditList);
    expect(JSON.stringify(audit)).toContain("runs.cancel");
    await page.context().close();
  });

  it("offers a viewer no action, and refuses one it tries anyway", async () => {
    const accepted = await submit();
    const page = await signedIn(viewerKey);
    expect(await page.locator('nav a[href="#/keys"]').isHidden()).toBe(true);
    await page.goto(`${central.url}/#/runs/${accepted.run.run_id}`);
    await page.locator("#run-details").waitFor();
    expect(await page.locator("#cancel-run").count()).toBe(0);
    const forced = await page.evaluate(
      async (id) => (await fetch(`/v1/runs/${id}/cancel`, { method: "POST" })).status,
      accepted.run.run_id,
    );
    expect(forced).toBe(403);
    await page.context().close();
  });

  it("holds a plan for approval until it is approved from the page, then shows its steps live", async () => {
    const { plan } = await admin.request("POST", PATHS.plans, PlanAccepted, {
      goal: "summarise the notebook, then check the summary",
      planner: "given",
      steps: [
        { id: "summarise", targets: [{ app: "lab-notes" }], params: { prompt: "summarise" } },
        {
          id: "check",
          targets: [{ app: "lab-notes" }],
          params: { prompt: "check it" },
          depends_on: ["summarise"],
        },
      ],
      policy: { approve_before_start: true },
    });
    const page = await signedIn(adminKey);
    await page.goto(`${central.url}/#/plans`);
    const pending = page.locator("tr[data-approval]", { hasText: plan.plan_id.slice(-8) });
    await pending.waitFor();
    expect((await admin.request("GET", `${PATHS.plans}/${plan.plan_id}`, Plan)).status).toBe(
      "awaiting_approval",
    );
    await pending.getByRole("button", { name: "Approve" }).click();
    await page.goto(`${central.url}/#/plans/${plan.plan_id}`);
    await page.locator('#plan-graph [data-step="check"]').waitFor();
    await expect
      .poll(() => page.locator("#plan-status .status").textContent(), { timeout: 60_000 })
      .toBe("completed");
    expect(await page.locator("[data-step] .status").allTextContents()).toEqual([
      "completed",
      "completed",
    ]);
    await shot(page, "plan");
    // Another run's events do not redraw this plan's page: an unrelated run of the same app
    // streams events for seconds (each would redraw within half a second if they were taken).
    const planReads: string[] = [];
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === `${PATHS.plans}/${plan.plan_id}`)
        planReads.push(request.url());
    });
    const other = await submit();
    await waitFor("the unrelated run to end", async () => {
      const run = await admin.request("GET", `${PATHS.runs}/${other.run.run_id}`, RunState);
      return ["completed", "failed", "cancelled"].includes(run.status);
    });
    expect(planReads).toEqual([]);
    const audit = await admin.request("GET", `${PATHS.audit}?limit=50`, AuditList);
    expect(audit.entries.find((e) => e.action === "approvals.approve")).toMatchObject({
      outcome: "ok",
      role: "admin",
    });
    await page.context().close();
  });

  it("shows the gateway, the keys and the audit log to an admin", async () => {
    const page = await signedIn(adminKey);
    for (const [view, heading] of [
      ["gateway", "Gateway"],
      ["keys", "Keys"],
      ["audit", "Audit"],
    ] as const) {
      await page.goto(`${central.url}/#/${view}`);
      await page.getByRole("heading", { name: heading, exact: true }).waitFor();
      await shot(page, view);
    }
    expect(await page.locator("td", { hasText: "session.create" }).count()).toBeGreaterThan(0);
    await page.context().close();
  });

  it("shows a run's whole timeline, the newest model calls, and a call for no run without a run link", async () => {
    // One run makes more calls than a page of the log holds; the last call is made for no run
    // (with an operator's key, or without a run header).
    const runId = uuidv7();
    const calls = Array.from({ length: 1_002 }, (_, i) => ({
      event_id: uuidv7(),
      tenant: "lab",
      run_id: i < 1_001 ? runId : null,
      agent_id: "host-1.lab-notes",
      source: "edge",
      seq: i,
      attempt: null,
      kind: "model_call",
      payload: {
        call_id: `call-${i + 1}`,
        provider: "lab-vllm",
        request_model: "qwen-notes",
        response_model: "qwen-notes",
        alias: null,
        response_id: null,
        stream: false,
        input_tokens: 10,
        output_tokens: 5,
        cost_usd: 0.00002,
        latency_ms: 40,
        ttft_ms: null,
        observer: "edge",
      },
      ts: new Date().toISOString(),
    }));
    const agent = new CentralClient({ url: central.url, key: agentKey });
    for (const batch of [calls.slice(0, 1_000), calls.slice(1_000)]) {
      const result = await agent.request("POST", PATHS.events, IngestResult, { events: batch });
      expect(result.stored).toBe(batch.length);
    }
    const page = await signedIn(viewerKey);
    await page.goto(`${central.url}/#/runs/${runId}`);
    await page.locator("#timeline").waitFor();
    expect(await page.locator('#timeline li[data-kind="model_call"]').count()).toBe(1_001);
    await page.goto(`${central.url}/#/gateway`);
    const newest = page.locator('tr[data-call="call-1002"]');
    await newest.waitFor();
    expect(await newest.locator("td").nth(1).textContent()).toBe("-");
    expect(await page.locator('tr[data-call="call-1001"] a').getAttribute("href")).toBe(
      `#/runs/${runId}`,
    );
    expect(await page.locator('tr[data-call="call-1"]').count()).toBe(0);
    await page.context().close();
  });

  it("shows the sign-in form once the signed-in key is revoked", async () => {
    const viewer = await createKeyRecord(central.url, adminKey, "viewer", "revoked soon");
    const page = await signedIn(viewer.key);
    await expect.poll(() => page.locator("#live").textContent(), { timeout: 10_000 }).toBe("live");
    await admin.request("DELETE", `${PATHS.keys}/${viewer.id}`, KeyInfo);
    await page.locator("#sign-in").waitFor({ state: "visible", timeout: 5_000 });
    expect(await page.locator("#sign-in-error").textContent()).toContain("session ended");
    await page.context().close();
  });
});
