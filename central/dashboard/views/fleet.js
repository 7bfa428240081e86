import { api } from "../lib/api.js";
import { h, render, statusOf, table, throttled, when } from "../lib/dom.js";

/** Agents by app: their state, current runs, last heartbeat. Redrawn as events arrive. */
export async function fleetView() {
  await drawFleet();
  return throttled(drawFleet);
}

/** Every agent, page after page (central pages its agent list). */
async function allAgents() {
  const agents = [];
  let after = null;
  do {
    const page = await api(
      "GET",
      `/v1/agents?limit=500${after === null ? "" : `&after=${encodeURIComponent(after)}`}`,
    );
    agents.push(...page.agents);
    after = page.next;
  } while (after !== null);
  return agents;
}

async function drawFleet() {
  const agents = await allAgents();
  const byApp = Map.groupBy(agents, (a) => a.app);
  const sections = [...byApp.entries()].map(([app, list]) =>
    h(
      "section",
      {},
      h("h2", {}, app),
      table(
        ["Agent", "Status", "Running", "Last heartbeat", "Version"],
        list.map((a) =>
          h(
            "tr",
            { "data-agent": a.agent_id },
            h("td", {}, a.agent_id),
            h("td", {}, statusOf(a.status)),
            h(
              "td",
              {},
              a.running.length === 0
                ? "-"
                : a.running.map((id) => h("a", { href: `#/runs/${id}` }, `${id.slice(-8)} `)),
            ),
            h("td", {}, when(a.last_heartbeat_at)),
            h("td", { class: "hide-narrow" }, a.agent_version),
          ),
        ),
        "",
      ),
    ),
  );
  render(
    h("h1", {}, "Fleet"),
    sections.length ? sections : h("p", {}, "No agent has connected yet."),
  );
}
