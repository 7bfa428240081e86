import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTRACT_VERSION } from "../../contract";
import { runCli } from "../helpers/cli";

const home = mkdtempSync(join(tmpdir(), "auraison-cli-"));
const env = { AURAISON_HOME: home };

describe("auraison CLI", () => {
  it("prints its version and the contract version", async () => {
    const result = await runCli(["--version"], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`contract ${CONTRACT_VERSION}`);
  });

  it("lays out every subcommand with help", async () => {
    const top = await runCli(["--help"], { env });
    expect(top.code).toBe(0);
    for (const command of [
      "dev",
      "edge",
      "app",
      "intent",
      "runs",
      "events",
      "agents",
      "keys",
      "audit",
      "settings",
      "memory",
      "deploy",
    ]) {
      expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
    const groups: Record<string, string[]> = {
      edge: ["start", "run"],
      intent: ["submit", "list", "show"],
      app: ["init"],
      settings: ["show", "apply"],
      runs: ["list", "show", "events", "cancel", "fork"],
      agents: ["list"],
      keys: ["create", "list", "revoke"],
      memory: ["sync", "sql", "rebuild"],
    };
    for (const [group, subs] of Object.entries(groups)) {
      const help = await runCli([group, "--help"], { env });
      expect(help.code, group).toBe(0);
      for (const sub of subs)
        expect(help.stdout, `${group} ${sub}`).toMatch(new RegExp(`^  ${sub}\\b`, "m"));
    }
  });

  it("exits 2 with a message on an unknown command or a missing option", async () => {
    const unknown = await runCli(["teleport"], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'teleport'");
    const missing = await runCli(["keys", "create", "--name", "x"], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--role");
  });

  it("exits 2 when a command is given without its subcommand, --json saying so", async () => {
    for (const args of [[], ["keys"], ["memory"], ["edge"]]) {
      const bare = await runCli(args, { env });
      expect(bare.code, args.join(" ")).toBe(2);
      expect(bare.stderr).toContain("Usage:");
    }
    for (const args of [["help"], ["help", "keys"], ["keys", "--help"]]) {
      const asked = await runCli(args, { env });
      expect(asked.code, args.join(" ")).toBe(0);
    }
    const json = await runCli(["approvals", "--json"], { env });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr.trim().split("\n").at(-1)!)).toEqual({
      error: { code: "missing_command", message: "a command is missing: see --help", exit_code: 2 },
    });
  });

  it("refuses durations no clock or timer can hold, before anything is made", async () => {
    const lake = join(mkdtempSync(join(tmpdir(), "auraison-cli-lake-")), "lake");
    const since = await runCli(["memory", "runs", "--since", "999999999d", "--lake", lake], {
      env,
    });
    expect(since.code).toBe(2);
    expect(since.stderr).toBe(
      "auraison: --since: '999999999d' is longer than 36500d (100 years)\n",
    );
    const poll = await runCli(
      ["memory", "sync", "--from-dir", home, "--follow", "--poll", "25d", "--lake", lake],
      { env },
    );
    expect(poll.code).toBe(2);
    expect(poll.stderr).toBe("auraison: --poll: '25d' is longer than 24d\n");
    const batch = await runCli(
      ["memory", "sync", "--from-dir", home, "--batch-size", "-1", "--lake", lake],
      { env },
    );
    expect(batch.code).toBe(2);
    expect(existsSync(lake)).toBe(false);
    const deadline = await runCli(
      ["intent", "submit", "--app", "lab-notes", "x", "--deadline", "999999999d"],
      { env: { ...env, AURAISON_URL: "http://127.0.0.1:9", AURAISON_KEY: "k" } },
    );
    expect(deadline.code).toBe(2);
    expect(deadline.stderr).toContain("--deadline: '999999999d' is longer than");
  });

  it("says which path it cannot use, with no stack", async () => {
    const file = join(home, "a-file");
    writeFileSync(file, "");
    const result = await runCli(["app", "init", join(file, "my-app")], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `auraison: cannot mkdir ${join(file, "my-app")}: a part of the path is not a directory\n`,
    );
  });

  it("refuses a central URL with a user or password, repeating neither", async () => {
    const result = await runCli(
      ["agents", "list", "--central", "http://lab:hunter2@127.0.0.1:9", "--key", "k"],
      { env },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("carries a user or password");
    expect(result.stderr).not.toContain("hunter2");
    for (const password of ["hunter2", "hun/ter2", "hun@ter2"]) {
      const invalid = await runCli(
        ["agents", "list", "--central", `http://lab:${password}@127.0.0.1:99999`, "--key", "k"],
        { env },
      );
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain("is not a valid URL");
      expect(invalid.stderr).not.toContain("ter2");
    }
  });

  it("says a damaged local.json is damaged, with no stack", async () => {
    const damaged = mkdtempSync(join(tmpdir(), "auraison-cli-home-"));
    writeFileSync(join(damaged, "local.json"), '{"url": ');
    const result = await runCli(["runs", "list"], { env: { AURAISON_HOME: damaged } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `auraison: ${join(damaged, "local.json")} is not valid local settings; delete it and run \`npm start\`\n`,
    );
  });

  it("with --json, says what went wrong as one JSON object on stderr, whoever refused", async () => {
    const noCentral = await runCli(["--json", "agents", "list"], { env });
    expect(noCentral.code).toBe(2);
    expect(JSON.parse(noCentral.stderr)).toEqual({
      error: { code: "usage", message: expect.stringContaining("no central URL"), exit_code: 2 },
    });
    const unknownOption = await runCli(["--json", "runs", "list", "--colour"], { env });
    expect(unknownOption.code).toBe(2);
    expect(JSON.parse(unknownOption.stderr)).toMatchObject({
      error: { code: "unknown_option", exit_code: 2 },
    });
    const unreachable = await runCli(
      ["--json", "agents", "list", "--central", "http://127.0.0.1:9", "--key", "k"],
      { env },
    );
    expect(unreachable.code).toBe(3);
    expect(JSON.parse(unreachable.stderr).error).toMatchObject({
      code: "unreachable",
      exit_code: 3,
    });
    const invalid = await runCli(["--json", "keys", "create", "--role", "root", "--name", "x"], {
      env: { ...env, AURAISON_URL: "http://127.0.0.1:9", AURAISON_KEY: "k" },
    });
    expect(JSON.parse(invalid.stderr).error).toMatchObject({
      code: "invalid_input",
      issues: [expect.objectContaining({ path: "role" })],
      exit_code: 2,
    });
  });

  it("refuses a status that does not exist before asking central, saying it once", async () => {
    const result = await runCli(
      ["runs", "list", "--status", "bogus", "--central", "http://127.0.0.1:9", "--key", "k"],
      { env },
    );
    expect(result.code).toBe(2);
    expect(result.stderr.match(/bogus/g)).toHaveLength(1);
    expect(result.stderr).toContain("pending, dispatched, running, completed, failed, cancelled");
  });

  it("exits 2 and says how to connect when no central is configured", async () => {
    const result = await runCli(["agents", "list"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no central URL");
    expect(result.stderr).toContain("AURAISON_URL");
  });

  it("validates input against the contract before sending anything", async () => {
    const result = await runCli(
      [
        "keys",
        "create",
        "--role",
        "root",
        "--name",
        "x",
        "--central",
        "http://127.0.0.1:9",
        "--key",
        "k",
      ],
      {
        env,
      },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/role: .*admin/);
  });

  it("exits 3 when central is unreachable", async () => {
    const result = await runCli(
      ["agents", "list", "--central", "http://127.0.0.1:9", "--key", "k"],
      { env },
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("unreachable");
  });

  it("refuses a task intent without a prompt or a target", async () => {
    const noPrompt = await runCli(
      ["intent", "submit", "--app", "lab-notes", "--central", "http://x", "--key", "k"],
      { env },
    );
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.stderr).toContain("needs a prompt");
    const noTarget = await runCli(
      ["intent", "submit", "hello", "--central", "http://x", "--key", "k"],
      { env },
    );
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toContain("--app");
  });
});
