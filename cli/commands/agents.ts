import type { Command } from "commander";
import { centralClient, globals } from "../context";
import { allAgents } from "../fleet-agents";
import { printRows } from "../output";

export function registerAgents(program: Command): void {
  const agents = program.command("agents").description("the tenant's edge agents");
  agents
    .command("list")
    .description("list edge agents with status, current runs and last heartbeat")
    .action(async (_opts: unknown, command: Command) => {
      const list = await allAgents(centralClient(command));
      const rows = list.map((a) => ({ ...a, skills: a.skills.map((s) => s.name) }));
      printRows(
        rows,
        ["agent_id", "app", "status", "running", "skills", "last_heartbeat_at"],
        globals(command).json,
      );
    });
}
