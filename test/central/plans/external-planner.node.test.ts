import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasPlanningPython, runFastDownward } from "../../../bench/pddl/fast-downward";
import { solvePddl } from "../../../central/planning/pddl";
import type { Plan, PlanAccepted, StoredEvent } from "../../../contract";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";
import { ScriptedAgent } from "../../helpers/scripted-agent";
import { ARM, SCANNER, pddlSkill as skill } from "../planning/pddl/fleet-domains";

/**
 * Central hands large PDDL problems to an external planner over HTTP and checks what it answers
 * before using it. The planner here is a Node server on 127.0.0.1 that answers as told: a right
 * plan (from a real solver run on the domain and problem text central sent), a wrong one, none
 * in time, or Fast Downward's plan (when `npm run planning:python` installed it).
 */

const TOKEN = `planner-${randomBytes(16).toString("hex")}`;
const PROBLEM = `(define (problem two-samples) (:domain fleet)
  (:objects s1 s2 - sample shelf - station)
  (:init (at s1 shelf) (at s2 shelf))
  (:goal (and (scanned s1) (scanned s2))))`;

interface Received {
  path: string;
  authorization: string | undefined;
  body: { domain: string; problem: string; optimal: boolean };
}

let central: CentralDev;
let planner: { url: string; received: Received[]; close: () => Promise<void> };

/** Answers by path: /right, /wrong (the right plan backwards), /hang, /fast-downward. */
async function startPlanner(): Promise<typeof planner> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text) as Received["body"];
    received.push({ path: req.url ?? "", authorization: req.headers.authorization, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(json));
    };
    if (req.url === "/hang") return void hanging.push(res);
    if (req.url === "/fast-downward") {
      const run = runFastDownward(body.domain, body.problem, "lama-first", 60);
      if (run.cost === null) return send(200, { error: "Fast Downward found no plan" });
      // As a plan file: one action a line, then the cost as a comment.
      return send(200, { plan: `${run.actions.join("\n")}\n; cost = ${run.cost} (unit cost)\n` });
    }
    const solved = solvePddl(body.domain, body.problem, { optimal: body.optimal });
    if (solved.status !== "solved") return send(500, { error: solved.status });
    const actions = solved.steps.map((s) => s.action);
    send(200, { plan: req.url === "/wrong" ? actions.reverse() : actions });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => {
      for (const res of hanging) res.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  planner = await startPlanner();
  central = await startCentralDev({
    logLevel: "warn",
    vars: {
      AURAISON_PRIVATE_UPSTREAMS: "allow",
      AURAISON_PROVIDER_SECRETS: JSON.stringify({ PLANNER_TOKEN: { hosts: ["127.0.0.1"] } }),
      PLANNER_TOKEN: TOKEN,
    },
  });
}, 180_000);
afterAll(async () => {
  await Promise.all([central?.stop(), planner?.close()]);
});

async function api(method: string, path: string, key: string, body?: unknown) {
  const response = await fetch(`${central.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

let tenants = 0;
const agents: ScriptedAgent[] = [];
afterAll(() => {
  for (const a of agents) a.ws.close();
});

/** A tenant with the external planner set as given, and an arm and a scanner that declare PDDL. */
async function fleet(external: Record<string, unknown> | null) {
  tenants += 1;
  const tenant = `xp-${tenants}-${randomBytes(3).toString("hex")}`;
  const admin = await createTenant(central.url, central.bootstrapKey, tenant);
  // Runs get one attempt each: a step's retries are the plan's.
  const put = await api("PUT", "/v1/settings", admin, {
    retry: { max_attempts: 1 },
    planning: { external_pddl: external },
  });
  expect(put.status, JSON.stringify(put.json)).toBe(200);
  const agentKey = await createKey(central.url, admin, "agent", "agents");
  const connect = async (id: string, app: string, s: ReturnType<typeof skill>) => {
    const agent = await ScriptedAgent.connect(central.url, agentKey, tenant, id, {
      app,
      registration: { skills: [s], max_concurrency: 4 },
    });
    agents.push(agent);
    return agent;
  };
  const arm = await connect("arm-1", "robot-arm", skill("carry", "robot-arm", ARM));
  const scanner = await connect("scanner-1", "scanner", skill("scan", "scanner", SCANNER));
  return { admin, arm, scanner };
}

/** The agent takes its next dispatch and ends the run: completed, or failed with `error`. */
async function finish(agent: ScriptedAgent, error?: string) {
  const dispatch = await agent.next("dispatch");
  const run = await agent.take(dispatch);
  const usage = { tokens_in: 0, tokens_out: 0, cost_usd: 0 };
  await agent.emit([
    error === undefined
      ? agent.completed(run)
      : agent.event(
          "run_failed",
          {
            error: { category: "tool", reason: "tool_error", message: error },
            usage,
            duration_ms: 1,
            tree_ref: null,
          },
          run,
        ),
  ]);
  return (dispatch.intent as { params: { action: string } }).params.action;
}

/** Submits the two-sample problem and waits until it is planned (or failed planning). */
async function plan(admin: string, policy: Record<string, unknown> = {}) {
  const submitted = await api("POST", "/v1/plans", admin, {
    goal: "scan both samples",
    planner: "pddl",
    pddl: { problem: PROBLEM },
    policy,
  });
  expect(submitted.status, JSON.stringify(submitted.json)).toBe(201);
  const id = (submitted.json as unknown as PlanAccepted).plan.plan_id;
  const until = Date.now() + 20_000;
  for (;;) {
    const got = (await api("GET", `/v1/plans/${id}`, admin)).json as unknown as Plan;
    if (got.status !== "planning" && got.status !== "replanning") {
      const events = (await api("GET", "/v1/events?kind=plan_version&limit=100", admin)).json
        .events as StoredEvent[];
      const versions = events
        .map((e) => e.payload as { plan_id: string; solver?: string; note?: string })
        .filter((p) => p.plan_id === id);
      return { plan: got, version: versions[0]! };
    }
    if (Date.now() > until) throw new Error(`plan ${id} still ${got.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const endpoint = (path: string, more: Record<string, unknown> = {}) => ({
  url: `${planner.url}${path}`,
  token: { secret: "PLANNER_TOKEN" },
  above: { objects: 3 },
  ...more,
});

describe("an external PDDL planner for large problems", () => {
  it("takes a problem above the threshold, with the token, and its checked plan runs in parallel", async () => {
    const { admin } = await fleet(endpoint("/right"));
    const before = planner.received.length;
    const { plan: made, version } = await plan(admin);
    expect(made.status).toBe("running");
    expect(version).toMatchObject({ solver: "external" });
    const asked = planner.received.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    // What central sent is whole PDDL: the fleet's merged domain, the problem over it.
    expect(asked[0]!.body.domain).toMatch(/\(:action carry[\s\S]*\(:action scan/);
    expect(asked[0]!.body.problem).toMatch(/\(:domain fleet\)/);
    expect(made.steps.map((s) => s.action)).toHaveLength(4);
    // Deordered by central: both carries wait for nothing, each scan for its carry.
    for (const step of made.steps)
      expect(step.depends_on).toHaveLength(step.action!.startsWith("(scan") ? 1 : 0);
  });

  it("repairs through it too: the problem it gets starts where the plan stands", async () => {
    const { admin, arm, scanner } = await fleet(endpoint("/right"));
    const { plan: made } = await plan(admin);
    await finish(arm);
    await finish(arm);
    const done = await finish(scanner);
    const broken = await finish(scanner, "lid stuck");
    expect(await finish(scanner, "lid stuck again")).toBe(broken);
    // The repair: only the failed scan is left, planned from the state the done actions left.
    expect(await finish(scanner)).toBe(broken);
    const repairProblem = planner.received.at(-1)!.body.problem;
    expect(repairProblem).toContain(`(scanned ${done.slice(6, -1)})`);
    expect(repairProblem).toMatch(
      /\(at s1 scan-bay\)[\s\S]*\(at s2 scan-bay\)|\(at s2 scan-bay\)[\s\S]*\(at s1 scan-bay\)/,
    );
    const repaired = (await api("GET", `/v1/plans/${made.plan_id}`, admin)).json as unknown as Plan;
    expect(repaired).toMatchObject({ status: "completed", version: 2 });
    const events = (await api("GET", "/v1/events?kind=plan_version&limit=100", admin)).json
      .events as StoredEvent[];
    const mine = events
      .map((e) => e.payload as { plan_id: string; version: number; solver?: string })
      .filter((p) => p.plan_id === made.plan_id);
    expect(mine.map((p) => [p.version, p.solver])).toEqual([
      [1, "external"],
      [2, "external"],
    ]);
  });

  it("leaves a problem at or below the threshold to central's solver", async () => {
    const { admin } = await fleet(
      endpoint("/right", { above: { objects: 10, ground_actions: 100 } }),
    );
    const before = planner.received.length;
    const { plan: made, version } = await plan(admin);
    expect(made.status).toBe("running");
    expect(version).toMatchObject({ solver: "central" });
    expect(planner.received.length).toBe(before);
  });

  it("refuses a plan that does not check and plans with central's solver, saying why", async () => {
    const { admin } = await fleet(endpoint("/wrong"));
    const { plan: made, version } = await plan(admin);
    expect(made.status).toBe("running");
    expect(version.solver).toBe("central");
    expect(version.note).toMatch(
      /^the external planner failed \(its plan does not check: action 1 of 4, \(scan s\d\): its precondition \(at s\d scan-bay\) does not hold after the actions before it\); central's solver planned instead$/,
    );
    expect(made.steps.map((s) => s.action)).toHaveLength(4);
  });

  it("fails the planning round with the reason when told not to fall back", async () => {
    const { admin } = await fleet(endpoint("/wrong", { on_failure: "fail" }));
    const { plan: failed } = await plan(admin, { planning_attempts: 1 });
    expect(failed).toMatchObject({ status: "failed", error: { reason: "planning_failed" } });
    expect(failed.error!.message).toMatch(
      /the external planner failed: its plan does not check: action 1 of 4/,
    );
  });

  it("gives up on a planner that does not answer in time, and falls back", async () => {
    const { admin } = await fleet(endpoint("/hang", { timeout_ms: 300 }));
    const { plan: made, version } = await plan(admin);
    expect(made.status).toBe("running");
    expect(version).toMatchObject({ solver: "central" });
    expect(version.note).toMatch(/the planner gave no answer within 300 ms/);
  });

  it("refuses settings naming a forbidden address or a secret not offered for the host (422, with the field)", async () => {
    const { admin } = await fleet(null);
    for (const [external, path, message] of [
      [endpoint("/right", { url: "http://169.254.169.254/plan" }), "url", /metadata/],
      [
        endpoint("/right", { token: { secret: "OTHER_SECRET" } }),
        "token.secret",
        /not a provider secret/,
      ],
      [
        endpoint("/right", { token: { secret: "AURAISON_KEY_SECRET" } }),
        "token.secret",
        /not a provider secret/,
      ],
    ] as const) {
      const refused = await api("PUT", "/v1/settings", admin, {
        planning: { external_pddl: external },
      });
      expect(refused.status).toBe(422);
      const issue = (refused.json.error as { issues: { path: string; message: string }[] })
        .issues[0]!;
      expect(issue.path).toBe(`planning.external_pddl.${path}`);
      expect(issue.message).toMatch(message);
    }
  });

  it.skipIf(!hasPlanningPython() && !process.env.CI)(
    "uses Fast Downward as the external planner: it reads the PDDL central writes, and its plan checks",
    async () => {
      const { admin } = await fleet(endpoint("/fast-downward", { timeout_ms: 60_000 }));
      const { plan: made, version } = await plan(admin);
      expect(version).toMatchObject({ solver: "external" });
      expect(made.status).toBe("running");
      expect(made.steps.map((s) => s.action).sort()).toEqual([
        "(carry s1 shelf scan-bay)",
        "(carry s2 shelf scan-bay)",
        "(scan s1)",
        "(scan s2)",
      ]);
    },
  );
});
