import { api, can, session, WRITERS } from "../lib/api.js";
import { h, render, showError, statusOf, table, throttled, usd } from "../lib/dom.js";

const SETTLED = ["completed", "failed", "cancelled"];

/**
 * One run: its state, a live timeline over the event stream, its tool and model calls and cost,
 * cancel and fork. An event of this run is appended to the timeline at once; the rest of the
 * page is redrawn at most twice a second.
 */
export async function runView(id) {
  await drawRun(id);
  const redraw = throttled(() => drawRun(id));
  return (event) => {
    if (event.run_id !== id) return;
    document.getElementById("timeline")?.append(eventItem(event));
    redraw();
  };
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

function runActions(id, run) {
  return h(
    "div",
    { class: "actions" },
    can(WRITERS) && !SETTLED.includes(run.status)
      ? h(
          "button",
          {
            type: "button",
            id: "cancel-run",
            onclick: async (event) => {
              event.target.disabled = true;
              await api("POST", `/v1/runs/${id}/cancel`, {
                reason: `cancelled from the dashboard by ${session.me.key_id}`,
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
}

function details(run) {
  return h(
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
  );
}

/** All of the run's events, page after page: a long run does not fit in one. */
async function runEvents(id) {
  const events = [];
  for (let after = 0; ; ) {
    const page = await api("GET", `/v1/events?run=${id}&after=${after}&limit=1000`);
    events.push(...page.events);
    if (!page.has_more) return events;
    after = page.next_cursor;
  }
}

async function drawRun(id) {
  const [run, events] = await Promise.all([api("GET", `/v1/runs/${id}`), runEvents(id)]);
  const calls = events.filter((e) => e.kind === "model_call");
  const tools = events.filter((e) => e.kind === "tool_call_finished");
  render(
    h("h1", {}, "Run ", h("code", {}, id)),
    details(run),
    runActions(id, run),
    h("h2", {}, "Timeline"),
    h("ol", { class: "timeline", id: "timeline" }, events.map(eventItem)),
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
}
