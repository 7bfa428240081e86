import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type EdgeProcess, startEdge } from "./helpers/edge-process";
import { makeApp } from "./helpers/runtime";
import { filesUnder } from "./helpers/state-files";

/**
 * Secrets a run meets (in its prompt, in a tool's output, in the model's answer) are redacted
 * before the edge writes anything: the outbox, the run records and pi's session files hold no
 * token, with the same rules central uses; and every state file is the agent user's alone.
 */

const running: EdgeProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) if (p.child.exitCode === null) await p.signal("SIGKILL");
});

const rand = (n: number) =>
  Array.from(
    crypto.getRandomValues(new Uint8Array(n)),
    (b) => "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 56],
  ).join("");

function dirs(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .flatMap((e) => dirs(join(dir, e.name))),
  ];
}

describe("the edge's state on disk", { timeout: 120_000 }, () => {
  it("holds no bearer token or key a run met, and only owner-only files and directories", async () => {
    const agentKey = `aur_agent_lab_${rand(43)}`;
    const bearer = rand(40);
    const hfToken = `hf_${rand(34).replace(/[0-9]/g, "x")}`;
    const glToken = `glpat-${rand(20)}`;
    const app = makeApp();
    const edge = await startEdge(app, [
      // A tool prints the environment and a config with a token, as lab hosts' tools do.
      {
        tool: "bash",
        args: {
          command: `echo "AURAISON_KEY=${agentKey}"; echo 'curl -H "Authorization: Bearer ${bearer}" https://lab'; echo "HF_TOKEN=${hfToken}"`,
        },
      },
      { text: `Done. The GitLab token is ${glToken} and the key ${agentKey}.` },
    ]);
    running.push(edge);
    const record = await edge.client.startRun({ prompt: `use ${glToken} to fetch the repo` });
    await edge.client.follow(record.run_id, () => {});
    expect(await edge.signal("SIGTERM")).toBe(0);

    const written = filesUnder(app.stateDir).filter((f) => !f.endsWith(".sock"));
    const kinds = new Set(written.map((f) => f.slice(app.stateDir.length + 1).split("/")[0]));
    expect([...kinds]).toEqual(expect.arrayContaining(["outbox", "runs", "sessions"]));
    for (const file of written) {
      const text = readFileSync(file, "utf8");
      for (const secret of [agentKey, bearer, hfToken, glToken])
        expect(text.includes(secret), `${file} holds ${secret.slice(0, 8)}...`).toBe(false);
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    for (const dir of dirs(app.stateDir)) expect(statSync(dir).mode & 0o777, dir).toBe(0o700);
    const outbox = written
      .filter((f) => f.includes("/outbox/"))
      .map((f) => readFileSync(f, "utf8"));
    expect(outbox.join("")).toContain("[REDACTED]");
  });
});
