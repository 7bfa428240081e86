// The dashboard: plain modules served by the central Worker as static assets, talking to the
// same /v1 API as the CLI with the session cookie (no build step, no framework: the page is a
// few views over JSON). Every value from the API is set as text, never as HTML.

const WRITERS = ["admin", "operator"];
const RUN_STATUSES = ["pending", "dispatched", "running", "completed", "failed", "cancelled"];

let me = null;
let stream = null;
let rerender = null;

/** Builds an element: attributes (`on*` as listeners) and children (strings become text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return el;
}

function statusOf(value) {
  return h("span", { class: `status ${value}` }, value);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "-";
}

function usd(value) {
  return value === null || value === undefined ? "-" : `$${Number(value).toFixed(4)}`;
}

function table(headers, rows, empty) {
  if (rows.length === 0) return h("p", {}, empty);
  return h(
    "div",
    { class: "table" },
    h(
      "table",
      {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((x) => h("th", {}, x)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.status === 401 && path !== "/v1/session")
    showSignIn("Your session ended: sign in again.");
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function can(roles) {
  return me !== null && roles.includes(me.role);
}

function view() {
  return document.getElementById("view");
}

function render(...children) {
  view().replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

function showSignIn(message = "") {
  me = null;
  stream?.close();
  stream = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  const form = signInForm();
  form.hidden = false;
  form.querySelector("#sign-in-error").textContent = message;
  render(form);
}

let signInTemplate = null;
function signInForm() {
  signInTemplate ??= document.getElementById("sign-in");
  return signInTemplate;
}

async function signIn(event) {
  event.preventDefault();
  const input = document.getElementById("key");
  const key = input.value.trim();
  input.value = "";
  try {
    me = await api("POST", "/v1/session", undefined, { authorization: `Bearer ${key}` });
    start();
  } catch (error) {
    signInForm().querySelector("#sign-in-error").textContent = error.message;
  }
}

async function signOut() {
  await api("DELETE", "/v1/session").catch(() => null);
  showSignIn();
}

function start() {
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("who").textContent = `${me.tenant} · ${me.role}`;
  for (const link of document.querySelectorAll("nav a[data-role]"))
    link.hidden = !can(link.dataset.role.split(","));
  follow();
  route();
}

/** One live stream of the tenant's events; each view says how it takes them. */
function follow() {
  stream?.close();
  stream = new EventSource("/v1/events/stream");
  const live = document.getElementById("live");
  stream.onopen = () => {
    live.textContent = "live";
  };
  stream.onerror = () => {
    live.textContent = "reconnecting…";
  };
  stream.addEventListener("event", (message) => {
    const event = JSON.parse(message.data);
    rerender?.(event);
  });
}

/** Re-draws a list view at most twice a second while events arrive. */
function throttled(draw) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      draw().catch(showError);
    }, 500);
  };
}

function showError(error) {
  render(h("p", { class: "error", role: "alert" }, error.message));
}

async function fleetView() {
  const { agents } = await api("GET", "/v1/agents");
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

async function runsView(params) {
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

function describeEvent(e) {
  const p = e.payload;
  switch (e.kind) {
    case "tool_call_started":
      return `${p.tool} ${p.arguments}`;
    case "tool_call_finished":
      return `${p.tool} ${p.status}${p.error_message ? `: ${p.error_message}` : ""}`;
    case "model_call":
      return `${p.provider}/${p.response_model ?? p.request_model} in ${p.input_tokens} out ${p.output_tokens} ${usd(p.cost_usd)}`;
    case "message":
      return `${p.role}: ${String(p.text ?? "").slice(0, 300)}`;
    case "run_failed":
    case "run_cancelled":
      return p.error?.message ?? p.reason ?? "";
    case "run_completed":
      return String(p.result ?? "").slice(0, 300);
    default:
      return "";
  }
}

function eventItem(e) {
  return h(
    "li",
    { "data-kind": e.kind },
    `${new Date(e.ts).toLocaleTimeString()} #${e.seq} ${e.kind} `,
    describeEvent(e),
  );
}

async function runView(id) {
  const [run, log] = await Promise.all([
    api("GET", `/v1/runs/${id}`),
    api("GET", `/v1/events?run=${id}&limit=1000`),
  ]);
  const timeline = h("ol", { class: "timeline", id: "timeline" }, log.events.map(eventItem));
  const calls = log.events.filter((e) => e.kind === "model_call");
  const tools = log.events.filter((e) => e.kind === "tool_call_finished");
  const settled = ["completed", "failed", "cancelled"].includes(run.status);
  const actions = h(
    "div",
    { class: "actions" },
    can(WRITERS) && !settled
      ? h(
          "button",
          {
            type: "button",
            id: "cancel-run",
            onclick: async (event) => {
              event.target.disabled = true;
              await api("POST", `/v1/runs/${id}/cancel`, {
                reason: `cancelled from the dashboard by ${me.key_id}`,
              }).catch(showError);
            },
          },
          "Cancel run",
        )
      : null,
    can(WRITERS) && run.tree_ref
      ? h(
          "button",
          {
            type: "button",
            id: "fork-run",
            onclick: async () => {
              const forked = await api("POST", `/v1/runs/${id}/fork`, {}).catch(showError);
              if (forked) location.hash = `#/runs/${forked.run.run_id}`;
            },
          },
          "Fork",
        )
      : null,
  );
  render(
    h("h1", {}, "Run ", h("code", {}, id)),
    h(
      "dl",
      { id: "run-details" },
      h("dt", {}, "Status"),
      h(
        "dd",
        { id: "run-status" },
        statusOf(run.status),
        run.waiting ? ` waiting: ${run.waiting.reason}` : "",
      ),
      h("dt", {}, "App / agent"),
      h("dd", {}, `${run.app ?? "-"} / ${run.agent_id ?? "-"}`),
      h("dt", {}, "Attempt"),
      h("dd", {}, run.attempt),
      h("dt", {}, "Tokens in / out"),
      h("dd", {}, `${run.usage.tokens_in} / ${run.usage.tokens_out}`),
      h("dt", {}, "Cost"),
      h("dd", {}, usd(run.usage.cost_usd)),
      h("dt", {}, "Error"),
      h("dd", {}, run.error ? `${run.error.reason}: ${run.error.message}` : "-"),
      h("dt", {}, "Result"),
      h("dd", {}, run.result ?? "-"),
    ),
    actions,
    h("h2", {}, "Timeline"),
    timeline,
    h("h2", {}, "Tool calls"),
    table(
      ["Tool", "Status", "Duration"],
      tools.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, e.payload.tool),
          h("td", {}, statusOf(e.payload.status)),
          h("td", {}, `${e.payload.duration_ms} ms`),
        ),
      ),
      "None.",
    ),
    h("h2", {}, "Model calls"),
    table(
      ["Model", "In", "Out", "Cost"],
      calls.map((e) =>
        h(
          "tr",
          {},
          h(
            "td",
            {},
            `${e.payload.provider}/${e.payload.response_model ?? e.payload.request_model}`,
          ),
          h("td", {}, e.payload.input_tokens),
          h("td", {}, e.payload.output_tokens),
          h("td", {}, usd(e.payload.cost_usd)),
        ),
      ),
      "None.",
    ),
  );
  const redraw = throttled(() => runView(id));
  rerender = (event) => {
    if (event.run_id !== id) return;
    document.getElementById("timeline")?.append(eventItem(event));
    redraw();
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

function decide(approval, redraw) {
  if (!can(WRITERS) || approval.status !== "pending") return null;
  const act = (on) => async (event) => {
    event.target.disabled = true;
    await api("POST", `/v1/approvals/${approval.approval_id}/${on}`, {
      reason: `${on === "approve" ? "approved" : "rejected"} from the dashboard`,
    }).catch(showError);
    redraw();
  };
  return h(
    "span",
    { class: "actions" },
    h("button", { type: "button", class: "approve", onclick: act("approve") }, "Approve"),
    h("button", { type: "button", class: "reject", onclick: act("reject") }, "Reject"),
  );
}

/** A plan's own approval: waiting (with the buttons), or who decided and when. */
function approvalLine(approval, redraw) {
  if (approval.status === "pending")
    return h("p", {}, "This plan waits for approval before it starts ", decide(approval, redraw));
  return h(
    "p",
    { class: "muted" },
    `Start ${approval.status} by ${approval.decided_by ?? "-"} at ${when(approval.decided_at)}${approval.reason ? `: ${approval.reason}` : ""}`,
  );
}

async function plansView() {
  const [{ plans }, { approvals }] = await Promise.all([
    api("GET", "/v1/plans"),
    api("GET", "/v1/approvals"),
  ]);
  const redraw = () => plansView().catch(showError);
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

async function planView(id) {
  const plan = await api("GET", `/v1/plans/${id}`);
  const redraw = () => planView(id).catch(showError);
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
  const open = !["completed", "failed", "cancelled"].includes(plan.status);
  const graph = h(
    "div",
    { class: "graph", id: "plan-graph" },
    layers(plan.steps).map((layer) =>
      h(
        "div",
        { class: "layer" },
        layer.map((step) =>
          h(
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
          ),
        ),
      ),
    ),
  );
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
    graph,
  );
  const throttledRedraw = throttled(() => planView(id));
  rerender = (event) => {
    if (
      event.kind.startsWith("plan_") ||
      event.kind.startsWith("approval_") ||
      event.kind.startsWith("run_")
    )
      throttledRedraw();
  };
}

async function gatewayView() {
  const status = await api("GET", "/v1/gateway/status");
  const calls = await api("GET", "/v1/events?kind=model_call&limit=1000");
  render(
    h("h1", {}, "Gateway"),
    h("h2", {}, "Providers"),
    table(
      ["Provider", "Kind", "Circuit", "Calls", "Failures", "Last error"],
      status.providers.map((p) =>
        h(
          "tr",
          {},
          h("td", {}, p.id),
          h("td", {}, p.kind),
          h("td", {}, statusOf(p.circuit)),
          h("td", {}, p.calls),
          h("td", {}, p.failures),
          h("td", {}, p.last_error ?? "-"),
        ),
      ),
      "No providers configured.",
    ),
    h("h2", {}, "Budgets"),
    table(
      ["Scope", "Period", "Tokens", "USD"],
      status.budgets.map((b) =>
        h(
          "tr",
          {},
          h("td", {}, `${b.scope} ${b.subject}`),
          h("td", {}, b.period),
          h("td", {}, `${b.tokens_used} / ${b.tokens_limit ?? "∞"}`),
          h("td", {}, `${usd(b.usd_used)} / ${b.usd_limit === null ? "∞" : usd(b.usd_limit)}`),
        ),
      ),
      "No budgets set.",
    ),
    h("h2", {}, "Recent calls"),
    table(
      ["When", "Run", "Model", "Tokens", "Cost"],
      calls.events
        .slice(-50)
        .reverse()
        .map((e) =>
          h(
            "tr",
            {},
            h("td", {}, when(e.ts)),
            h("td", {}, h("a", { href: `#/runs/${e.run_id}` }, e.run_id.slice(-8))),
            h(
              "td",
              {},
              `${e.payload.provider}/${e.payload.response_model ?? e.payload.request_model}`,
            ),
            h("td", {}, e.payload.input_tokens + e.payload.output_tokens),
            h("td", {}, usd(e.payload.cost_usd)),
          ),
        ),
      "No model calls yet.",
    ),
  );
}

async function keysView() {
  const { keys } = await api("GET", "/v1/keys");
  render(
    h("h1", {}, "Keys"),
    table(
      ["Name", "Role", "App", "Prefix", "Last used", "Revoked", ""],
      keys.map((k) =>
        h(
          "tr",
          {},
          h("td", {}, k.name),
          h("td", {}, k.role),
          h("td", {}, k.app ?? "-"),
          h("td", {}, h("code", {}, k.prefix)),
          h("td", {}, when(k.last_used_at)),
          h("td", {}, when(k.revoked_at)),
          h(
            "td",
            {},
            k.revoked_at || k.id === me.key_id
              ? ""
              : h(
                  "button",
                  {
                    type: "button",
                    onclick: async () => {
                      if (!confirm(`Revoke key ${k.name}?`)) return;
                      await api("DELETE", `/v1/keys/${k.id}`).catch(showError);
                      keysView().catch(showError);
                    },
                  },
                  "Revoke",
                ),
          ),
        ),
      ),
      "No keys.",
    ),
  );
}

async function auditView() {
  const { entries } = await api("GET", "/v1/audit?limit=200");
  render(
    h("h1", {}, "Audit"),
    table(
      ["When", "Who", "Action", "Target", "Outcome"],
      entries.map((a) =>
        h(
          "tr",
          {},
          h("td", {}, when(a.at)),
          h("td", {}, `${a.principal} (${a.role})`),
          h("td", {}, a.action),
          h("td", {}, a.target ?? "-"),
          h("td", {}, `${a.outcome} ${a.status}`),
        ),
      ),
      "Nothing yet.",
    ),
  );
}

async function route() {
  if (!me) return;
  const [path, search] = location.hash.slice(1).split("?");
  const params = new URLSearchParams(search ?? "");
  const parts = (path || "/fleet").split("/").filter(Boolean);
  for (const link of document.querySelectorAll("nav a"))
    link.classList.toggle("active", link.getAttribute("href") === `#/${parts[0]}`);
  rerender = null;
  try {
    if (parts[0] === "runs" && parts[1]) return await runView(parts[1]);
    if (parts[0] === "runs") {
      rerender = throttled(() => runsView(params));
      return await runsView(params);
    }
    if (parts[0] === "plans" && parts[1]) return await planView(parts[1]);
    if (parts[0] === "plans") {
      rerender = throttled(plansView);
      return await plansView();
    }
    if (parts[0] === "gateway") return await gatewayView();
    if (parts[0] === "keys") return await keysView();
    if (parts[0] === "audit") return await auditView();
    rerender = throttled(fleetView);
    return await fleetView();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    showError(error);
  }
}

signInForm().addEventListener("submit", signIn);
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
api("GET", "/v1/session")
  .then((session) => {
    me = session;
    start();
  })
  .catch(() => showSignIn());
