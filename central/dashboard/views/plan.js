import { api, can, WRITERS } from "../lib/api.js";
import { h, render, showError, statusOf, throttled } from "../lib/dom.js";
import { approvalLine, decide } from "./approval.js";

const SETTLED = ["completed", "failed", "cancelled"];

/**
 * One plan: its steps as a graph in layers with their live states, its approvals, pause, resume
 * and cancel. Redrawn for this plan's own events and for events of its steps' runs only, so
 * another plan's or an unrelated run's traffic costs the page nothing.
 */
export async function planView(id) {
  const runs = new Set();
  await drawPlan(id, runs);
  const redraw = throttled(() => drawPlan(id, runs));
  return (event) => {
    const ours = event.kind.startsWith("plan_") || event.kind.startsWith("approval_");
    if (ours ? event.payload?.plan_id === id : runs.has(event.run_id)) redraw();
  };
}

/** The steps in layers: each after every step it depends on, so the graph reads left to right. */
function layers(steps) {
  const depth = new Map();
  const byId = new Map(steps.map((step) => [step.id, step]));
  const depthOf = (step) => {
    if (!depth.has(step.id)) {
      depth.set(step.id, 0);
      const parents = step.depends_on.map((id) => byId.get(id)).filter(Boolean);
      depth.set(step.id, parents.length ? 1 + Math.max(...parents.map(depthOf)) : 0);
    }
    return depth.get(step.id);
  };
  const out = [];
  for (const step of steps) {
    const at = depthOf(step);
    out[at] = [...(out[at] ?? []), step];
  }
  return out;
}

function stepBox(step, redraw) {
  return h(
    "div",
    { class: "step", "data-step": step.id },
    h("strong", {}, step.title ?? step.id),
    h("div", {}, statusOf(step.status)),
    h(
      "div",
      { class: "muted" },
      step.targets.map((t) => t.app ?? t.skill ?? t.agent_id).join(", "),
    ),
    step.depends_on.length
      ? h("div", { class: "muted" }, `after ${step.depends_on.join(", ")}`)
      : null,
    step.runs.length
      ? h(
          "a",
          { href: `#/runs/${step.runs.at(-1).run_id}` },
          `run ${step.runs.at(-1).run_id.slice(-8)}`,
        )
      : null,
    step.approval ? decide(step.approval, redraw) : null,
  );
}

/** Draws the plan and refreshes `runs` with the run ids of its steps. */
async function drawPlan(id, runs) {
  const plan = await api("GET", `/v1/plans/${id}`);
  runs.clear();
  for (const step of plan.steps) for (const run of step.runs) runs.add(run.run_id);
  const redraw = () => drawPlan(id, runs).catch(showError);
  const action = (name) =>
    h(
      "button",
      {
        type: "button",
        id: `${name}-plan`,
        onclick: async (event) => {
          event.target.disabled = true;
          await api("POST", `/v1/plans/${id}/${name}`, {}).catch(showError);
          redraw();
        },
      },
      name[0].toUpperCase() + name.slice(1),
    );
  const open = !SETTLED.includes(plan.status);
  render(
    h("h1", {}, "Plan ", h("code", {}, id)),
    h(
      "dl",
      {},
      h("dt", {}, "Goal"),
      h("dd", {}, plan.goal),
      h("dt", {}, "Status"),
      h("dd", { id: "plan-status" }, statusOf(plan.status)),
      h("dt", {}, "Planner"),
      h(
        "dd",
        {},
        `${plan.planner}, version ${plan.history.length + 1}, ${plan.planning.replans} replans`,
      ),
      h("dt", {}, "Error"),
      h("dd", {}, plan.error ? `${plan.error.reason}: ${plan.error.message}` : "-"),
    ),
    plan.approval ? approvalLine(plan.approval, redraw) : null,
    h(
      "div",
      { class: "actions" },
      can(WRITERS) && open && plan.status !== "paused" ? action("pause") : null,
      can(WRITERS) && plan.status === "paused" ? action("resume") : null,
      can(WRITERS) && open ? action("cancel") : null,
    ),
    h("h2", {}, "Steps"),
    h(
      "div",
      { class: "graph", id: "plan-graph" },
      layers(plan.steps).map((layer) =>
        h(
          "div",
          { class: "layer" },
          layer.map((step) => stepBox(step, redraw)),
        ),
      ),
    ),
  );
}
