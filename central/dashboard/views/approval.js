import { api, can, WRITERS } from "../lib/api.js";
import { h, showError, when } from "../lib/dom.js";

/** Approve and Reject for a pending approval, offered only to roles that may decide. */
export function decide(approval, redraw) {
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
export function approvalLine(approval, redraw) {
  if (approval.status === "pending")
    return h("p", {}, "This plan waits for approval before it starts ", decide(approval, redraw));
  return h(
    "p",
    { class: "muted" },
    `Start ${approval.status} by ${approval.decided_by ?? "-"} at ${when(approval.decided_at)}${approval.reason ? `: ${approval.reason}` : ""}`,
  );
}
