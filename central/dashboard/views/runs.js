import { api } from "../lib/api.js";
import { h, render, statusOf, table, throttled, usd, when } from "../lib/dom.js";

const RUN_STATUSES = ["pending", "dispatched", "running", "completed", "failed", "cancelled"];

/** The runs, filtered by status and app (kept in the URL). Redrawn as events arrive. */
export async function runsView(params) {
  await drawRuns(params);
  return throttled(() => drawRuns(params));
}

async function drawRuns(params) {
  const query = new URLSearchParams();
  if (params.get("status")) query.set("status", params.get("status"));
  if (params.get("app")) query.set("app", params.get("app"));
  const { runs } = await api("GET", `/v1/runs?${query}`);
  const status = h(
    "select",
    { name: "status", "aria-label": "status" },
    h("option", { value: "" }, "any status"),
    RUN_STATUSES.map((s) => h("option", { value: s, selected: params.get("status") === s }, s)),
  );
  const app = h("input", {
    name: "app",
    placeholder: "app",
    "aria-label": "app",
    value: params.get("app") ?? "",
  });
  const filters = h(
    "form",
    {
      class: "filters",
      onsubmit: (event) => {
        event.preventDefault();
        const next = new URLSearchParams();
        if (status.value) next.set("status", status.value);
        if (app.value) next.set("app", app.value);
        location.hash = `#/runs?${next}`;
      },
    },
    status,
    app,
    h("button", { type: "submit" }, "Filter"),
  );
  render(
    h("h1", {}, "Runs"),
    filters,
    table(
      ["Run", "App", "Status", "Attempt", "Tokens", "Cost", "Started"],
      runs.map((r) =>
        h(
          "tr",
          { "data-run": r.run_id },
          h("td", {}, h("a", { href: `#/runs/${r.run_id}` }, r.run_id)),
          h("td", {}, r.app ?? r.targets.map((t) => t.app ?? t.agent_id ?? "?").join(", ")),
          h("td", {}, statusOf(r.status), r.waiting ? ` (${r.waiting.reason})` : ""),
          h("td", {}, r.attempt),
          h("td", { class: "hide-narrow" }, r.usage.tokens_in + r.usage.tokens_out),
          h("td", {}, usd(r.usage.cost_usd)),
          h("td", { class: "hide-narrow" }, when(r.timings.started_at)),
        ),
      ),
      "No runs.",
    ),
  );
}
