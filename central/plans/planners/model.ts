import { z } from "zod";
import {
  emptyUsage,
  isUnderway,
  type Plan,
  PlanSpec,
  toIssues,
  type Usage,
} from "../../../contract";
import type { Planner, PlanningAnswer, PlanningAsk, PlanningFleet } from "./planner";

/** One chat completion through the tenant's gateway: the answer's text and what it consumed. */
export type ModelCall = (body: Record<string, unknown>) => Promise<{ text: string; usage: Usage }>;

const RESULT_CHARS = 2_000;
const PLAN_SCHEMA = z.toJSONSchema(PlanSpec, { io: "input" });

const SYSTEM = `You are the planner of an agent fleet. You turn a goal into a plan: a graph of steps without cycles.
Each step is one intent for an agent: an id (lowercase, e.g. "fetch-data"), a type (usually "task"), params (for a task: {"prompt": "..."} plus what the target skill's params schema asks for), targets (who may run it: {"app": ...}, {"skill": ...} or {"capabilities": [...]}, only from the catalogue), depends_on (ids of steps that must finish first), and inputs (params filled from earlier steps' results: {"param": {"step": "id"}} for the result text, or {"step": "id", "path": "/json/pointer"} into a JSON result; only from steps it depends on).
Steps that do not depend on each other run in parallel. Use only targets the catalogue lists.
Answer with one JSON object matching the schema, and nothing else.`;

/**
 * Central's own reasoning loop: a goal in words becomes a plan, from a model called through the
 * tenant's gateway, with the fleet's skills as the catalogue and a schema-constrained answer.
 * What it answers is read here (JSON, the PlanSpec schema) and checked by the plan owner against
 * the fleet; each refusal comes back as the next attempt's feedback. A repair is told the goal,
 * the steps done and their results, and what failed.
 */
export class ModelPlanner implements Planner {
  constructor(private readonly call: ModelCall) {}

  async plan(ask: PlanningAsk): Promise<PlanningAnswer> {
    const body = {
      model: ask.plan.model,
      temperature: 0,
      messages: [
        { role: "system", content: SYSTEM },
        { role: "user", content: prompt(ask) },
      ],
      response_format: {
        type: "json_schema",
        json_schema: { name: "plan", schema: PLAN_SCHEMA },
      },
    };
    let answer: { text: string; usage: Usage };
    try {
      answer = await this.call(body);
    } catch (error) {
      return {
        ok: false,
        error: `the planning call failed: ${error instanceof Error ? error.message : String(error)}`,
        usage: emptyUsage(),
      };
    }
    return read(answer.text, answer.usage);
  }
}

/** The model's answer as plan steps, or why it is not one. */
function read(text: string, usage: Usage): PlanningAnswer {
  const unfenced = text.trim().replace(/^```(?:json)?\s*|\s*```$/g, "");
  let json: unknown;
  try {
    json = JSON.parse(unfenced);
  } catch (error) {
    return {
      ok: false,
      error: `the answer is not JSON (${(error as Error).message}); answer with one JSON object only`,
      usage,
    };
  }
  const parsed = PlanSpec.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      error: `the answer does not match the plan schema: ${toIssues(parsed.error)
        .map((i) => `${i.path || "(root)"}: ${i.message}`)
        .join("; ")}`,
      usage,
    };
  return { ok: true, steps: parsed.data.steps, usage };
}

function prompt(ask: PlanningAsk): string {
  const { plan } = ask;
  const lines = [
    `Goal: ${plan.goal}`,
    ...(plan.context ? [`Context: ${JSON.stringify(plan.context)}`] : []),
    "",
    "Catalogue (apps, their skills with params schemas, capabilities):",
    catalogue(ask.fleet),
    "",
    `Planning round: ${ask.round} (attempt ${ask.attempt} of ${plan.policy.planning_attempts})`,
  ];
  if (ask.round === "repair") lines.push("", ...repair(plan));
  // A repair's first attempt is told the failure (above); any later attempt, why it was refused.
  const refused = ask.round === "initial" || ask.attempt > 1;
  if (ask.feedback && refused)
    lines.push("", `Your last answer was refused: ${ask.feedback}`, "Fix that.");
  return lines.join("\n");
}

function repair(plan: Plan): string[] {
  const done = plan.steps.filter((s) => s.status === "completed");
  const running = plan.steps.filter(isUnderway);
  const failed = plan.steps.filter((s) => s.status === "failed");
  return [
    "A step failed for good, so the steps not done are planned again.",
    ...failed.map(
      (s) =>
        `Failed: step ${s.id} failed (${s.error?.reason ?? "unknown"}): ${s.error?.message ?? ""}`,
    ),
    done.length
      ? `Completed steps (new steps may depend on them and take their results; do not reuse their ids):\n${done
          .map((s) => `- ${s.id}: ${(s.result ?? "").slice(0, RESULT_CHARS)}`)
          .join("\n")}`
      : "No step has completed.",
    ...(running.length
      ? [`Still running (do not reuse their ids): ${running.map((s) => s.id).join(", ")}`]
      : []),
    "Plan only the rest of the goal.",
  ];
}

function catalogue(fleet: PlanningFleet): string {
  const apps = new Map<string, { skills: Map<string, string>; capabilities: Set<string> }>();
  for (const agent of fleet.agents) {
    const app = apps.get(agent.app) ?? { skills: new Map(), capabilities: new Set() };
    apps.set(agent.app, app);
    for (const c of agent.capabilities) app.capabilities.add(c);
    for (const skill of agent.skills)
      app.skills.set(
        skill.name,
        `${skill.name}: ${skill.description}${skill.params ? ` params ${JSON.stringify(skill.params)}` : ""}`,
      );
  }
  return [...apps]
    .map(
      ([name, app]) =>
        `- app ${name}; capabilities: ${[...app.capabilities].join(", ") || "none"}\n${[...app.skills.values()].map((s) => `  - skill ${s}`).join("\n")}`,
    )
    .join("\n");
}
