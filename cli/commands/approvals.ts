import { type Command, Option } from "commander";
import { APPROVAL_STATUSES, Approval, ApprovalList, PATHS } from "../../contract";
import { centralClient, globals } from "../context";
import { printRows } from "../output";

const COLUMNS = ["approval_id", "status", "plan_id", "step_id", "requested_at", "deadline"];

/** `auraison approvals list|approve|reject`: the decisions plans and their steps wait for. */
export function registerApprovals(program: Command): void {
  const approvals = program
    .command("approvals")
    .description("decide what plans and their steps wait for");

  approvals
    .command("list")
    .description("list approvals (the pending ones unless --status says otherwise)")
    .addOption(
      new Option("--status <status>", "approvals in this status")
        .choices(APPROVAL_STATUSES)
        .default("pending"),
    )
    .option("--plan <plan>", "only this plan's")
    .option("--limit <n>", "at most this many", "50")
    .action(async (opts: { status: string; plan?: string; limit: string }, command: Command) => {
      const query = new URLSearchParams({ status: opts.status, limit: opts.limit });
      if (opts.plan) query.set("plan", opts.plan);
      const list = await centralClient(command).request(
        "GET",
        `${PATHS.approvals}?${query}`,
        ApprovalList,
      );
      printRows(
        list.approvals,
        opts.status === "pending" ? COLUMNS : [...COLUMNS, "decided_by", "decided_at", "reason"],
        globals(command).json,
      );
    });

  for (const [on, description] of [
    ["approve", "approve: the plan or step goes on"],
    ["reject", "reject: the plan fails, or replans, as its policy says"],
  ] as const)
    approvals
      .command(on)
      .description(description)
      .argument("<approval>", "approval id (auraison approvals list shows them)")
      .option("--reason <text>", "why (kept in the audit log and the plan's events)")
      .action(async (id: string, opts: { reason?: string }, command: Command) => {
        const decided = await centralClient(command).request(
          "POST",
          `${PATHS.approvals}/${encodeURIComponent(id)}/${on}`,
          Approval,
          opts.reason ? { reason: opts.reason } : {},
        );
        printRows(
          [decided],
          [...COLUMNS.slice(0, 4), "decided_by", "decided_at"],
          globals(command).json,
        );
      });
}
