import { api } from "../lib/api.js";
import { h, render, showError, statusOf, table, throttled, usd, when } from "../lib/dom.js";
import { decide } from "./approval.js";

/** What waits for approval, and the plans. Redrawn as events arrive. */
export async function plansView() {
  await drawPlans();
  return throttled(drawPlans);
}

async function drawPlans() {
  const [{ plans }, { approvals }] = await Promise.all([
    api("GET", "/v1/plans"),
    api("GET", "/v1/approvals"),
  ]);
  const redraw = () => drawPlans().catch(showError);
  render(
    h("h1", {}, "Plans"),
    h("h2", {}, "Waiting for approval"),
    table(
      ["Plan", "Step", "Asked", "Deadline", ""],
      approvals.map((a) =>
        h(
          "tr",
          { "data-approval": a.approval_id },
          h("td", {}, h("a", { href: `#/plans/${a.plan_id}` }, a.plan_id.slice(-8))),
          h("td", {}, a.step_id ?? "the whole plan"),
          h("td", {}, when(a.requested_at)),
          h("td", {}, when(a.deadline)),
          h("td", {}, decide(a, redraw)),
        ),
      ),
      "Nothing waits for approval.",
    ),
    h("h2", {}, "Plans"),
    table(
      ["Plan", "Goal", "Planner", "Status", "Steps", "Cost", "Created"],
      plans.map((p) =>
        h(
          "tr",
          { "data-plan": p.plan_id },
          h("td", {}, h("a", { href: `#/plans/${p.plan_id}` }, p.plan_id.slice(-8))),
          h("td", {}, p.goal),
          h("td", { class: "hide-narrow" }, p.planner),
          h("td", {}, statusOf(p.status)),
          h("td", {}, `${p.steps_completed}/${p.steps}`),
          h("td", {}, usd(p.usage.cost_usd)),
          h("td", { class: "hide-narrow" }, when(p.created_at)),
        ),
      ),
      "No plans.",
    ),
  );
}
