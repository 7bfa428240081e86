import { api, session } from "../lib/api.js";
import { h, render, showError, table, when } from "../lib/dom.js";

/** The tenant's keys, with revoke (admins only: the nav hides it and the API refuses others). */
export async function keysView() {
  const { keys } = await api("GET", "/v1/keys");
  const revoke = (k) =>
    h(
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
    );
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
          h("td", {}, k.revoked_at || k.id === session.me.key_id ? "" : revoke(k)),
        ),
      ),
      "No keys.",
    ),
  );
  return null;
}

/** The audit log's latest entries (admins only). */
export async function auditView() {
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
  return null;
}
