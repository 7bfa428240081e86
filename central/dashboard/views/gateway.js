import { api } from "../lib/api.js";
import { h, render, statusOf, table, usd, when } from "../lib/dom.js";

/** Providers and their circuits, spend against budgets, the recent model calls. */
export async function gatewayView() {
  const [status, calls] = await Promise.all([
    api("GET", "/v1/gateway/status"),
    api("GET", "/v1/events?kind=model_call&tail=true&limit=50"),
  ]);
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
      calls.events.reverse().map((e) =>
        h(
          "tr",
          { "data-call": e.payload.call_id },
          h("td", {}, when(e.ts)),
          // A call made with an operator's or admin's key, or without a run header, has no run.
          h(
            "td",
            {},
            e.run_id === null ? "-" : h("a", { href: `#/runs/${e.run_id}` }, e.run_id.slice(-8)),
          ),
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
  return null;
}
