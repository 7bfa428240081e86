import { describeTarget, type Plan, type PlanStep } from "../contract";

const MARK: Record<PlanStep["status"], string> = {
  waiting: "·",
  awaiting_approval: "?",
  ready: "○",
  running: "▶",
  completed: "✓",
  failed: "✗",
  cancelled: "-",
  superseded: "~",
};

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/**
 * A plan as a terminal reads it: a header, then its steps in layers (a step sits one layer
 * below the deepest step it waits for, so a layer's steps may run side by side), each with its
 * status, target, what it waits for and takes, its run and its result or error.
 */
export function renderPlan(plan: Plan): string {
  const usage = plan.usage;
  const lines = [
    `plan ${plan.plan_id}  ${plan.status}  (${plan.planner}, version ${plan.version})`,
    `goal: ${clip(plan.goal, 200)}`,
    `usage: ${usage.tokens_in + usage.tokens_out} tokens, ${usage.cost_usd === null ? "cost unknown" : `$${usage.cost_usd.toFixed(4)}`}; replans ${plan.planning.replans}/${plan.policy.max_replans}`,
  ];
  if (plan.error) lines.push(`error: ${plan.error.reason}: ${clip(plan.error.message, 300)}`);
  if (plan.approval?.status === "pending")
    lines.push(`awaiting approval: auraison approvals approve ${plan.approval.approval_id}`);
  const layers = layered(plan.steps);
  const width = Math.max(4, ...plan.steps.map((s) => s.id.length));
  layers.forEach((layer, i) => {
    lines.push(`layer ${i + 1}${layer.length > 1 ? ` (${layer.length} in parallel)` : ""}`);
    for (const step of layer) {
      const parts = [
        `  ${MARK[step.status]} ${step.id.padEnd(width)}`,
        step.status.padEnd(17),
        step.targets.map(describeTarget).join(" | "),
      ];
      if (step.depends_on.length) parts.push(`after ${step.depends_on.join(", ")}`);
      const inputs = Object.entries(step.inputs);
      if (inputs.length)
        parts.push(`takes ${inputs.map(([k, v]) => `${k}<-${v.step}${v.path ?? ""}`).join(", ")}`);
      lines.push(parts.join("  "));
      const detail: string[] = [];
      if (step.action) detail.push(step.action);
      else if (step.title) detail.push(step.title);
      const run = step.runs.at(-1);
      if (run) detail.push(`run ${run.run_id} (attempt ${run.attempt}/${step.max_attempts})`);
      if (detail.length) lines.push(`      ${detail.join("  ")}`);
      if (step.result !== null)
        lines.push(`      = ${clip(step.result.replace(/\s+/g, " "), 160)}`);
      else if (step.error && step.status !== "completed")
        lines.push(`      ! ${step.error.reason}: ${clip(step.error.message, 160)}`);
      if (step.approval?.status === "pending")
        lines.push(
          `      awaiting approval: auraison approvals approve ${step.approval.approval_id}`,
        );
    }
  });
  if (plan.history.length)
    lines.push(
      `earlier versions: ${plan.history.map((h) => `v${h.version} (${clip(h.reason, 80)})`).join("; ")}`,
    );
  return lines.join("\n");
}

/** Steps by depth: each one layer below the deepest step of this version it waits for. */
function layered(steps: readonly PlanStep[]): PlanStep[][] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const depth = new Map<string, number>();
  const depthOf = (step: PlanStep, seen: Set<string>): number => {
    const known = depth.get(step.id);
    if (known !== undefined) return known;
    seen.add(step.id);
    let d = 0;
    for (const dep of step.depends_on) {
      const before = byId.get(dep);
      if (before && !seen.has(dep)) d = Math.max(d, depthOf(before, seen) + 1);
    }
    depth.set(step.id, d);
    return d;
  };
  const layers: PlanStep[][] = [];
  for (const step of steps) {
    const d = depthOf(step, new Set());
    layers[d] = [...(layers[d] ?? []), step];
  }
  return layers.filter((l) => l !== undefined);
}
