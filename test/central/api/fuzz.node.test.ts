import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../../cli/wrangler";
import type { Role } from "../../../contract";
import {
  type CentralDev,
  createKey,
  createTenant,
  startCentralDev,
} from "../../helpers/central-dev";

/**
 * The OpenAPI document agrees with central's real answers: schemathesis (PyPI, installed by
 * `npm run fuzz:install`, which .ci/run runs) fuzzes every operation from /openapi.json with a
 * key of each role, against a central of its own (so fuzzed writes touch no other test's state),
 * bounded in time, and every check that compares an answer with the document must pass: no
 * server error, only documented statuses, content types and headers, bodies that match their
 * schemas, schema-invalid input refused and schema-valid input accepted.
 *
 * Left out: the agent WebSocket (`connectAgent`, not HTTP request/response) and the live event
 * stream (`streamEvents`, an endless text/event-stream); both are covered by their own tests.
 */

// Hypothesis seeds what it draws with the literals of every module it takes for the project's
// own: anything not under site-packages or the standard library. So the install's directory is
// named site-packages (installed elsewhere, its libraries counted, and the fuzzer sent urllib3's
// "@@@SKIP_HEADER@@@" sentinel as a header value, which urllib3 itself refuses to send: a
// runtime error of the fuzzer, not central's answer), and the literals it should try, names a
// JavaScript object inherits among them, are in a hooks module of ours. The first test below pins
// both.
const SCHEMATHESIS = join(PROJECT_ROOT, ".ci", ".schemathesis", "site-packages");
const LITERALS = join(PROJECT_ROOT, ".ci", "fuzz");
const PYTHON_ENV = {
  ...process.env,
  PYTHONPATH: `${SCHEMATHESIS}:${LITERALS}`,
  SCHEMATHESIS_HOOKS: "auraison_fuzz_literals",
};
const installed = existsSync(join(SCHEMATHESIS, "bin", "st"));
const SECONDS_PER_ROLE = Number(process.env.AURAISON_FUZZ_SECONDS ?? 30);
const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "negative_data_rejection",
  "positive_data_acceptance",
  "missing_required_header",
  "unsupported_method",
  "ignored_auth",
];

let central: CentralDev;
let schema: string;
const keys = {} as Record<Role | "bootstrap", string>;

beforeAll(async () => {
  central = await startCentralDev({
    logLevel: "warn",
    vars: { AURAISON_GATEWAY_KEK: "fuzz-key-encryption-key-0123456789abcdef" },
  });
  const admin = await createTenant(central.url, central.bootstrapKey, "fuzz");
  keys.admin = admin;
  keys.operator = await createKey(central.url, admin, "operator", "fuzz");
  keys.viewer = await createKey(central.url, admin, "viewer", "fuzz");
  keys.agent = await createKey(central.url, admin, "agent", "fuzz");
  keys.bootstrap = central.bootstrapKey;
  schema = join(mkdtempSync(join(tmpdir(), "auraison-fuzz-")), "openapi.json");
  writeFileSync(schema, await (await fetch(`${central.url}/openapi.json`)).text());
}, 180_000);
afterAll(() => central?.stop());

const CONFIG = join(PROJECT_ROOT, "test", "central", "api", "schemathesis.toml");

function fuzz(key: string, only: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      "python3",
      [
        join(SCHEMATHESIS, "bin", "st"),
        "--config-file",
        CONFIG,
        "run",
        schema,
        "--url",
        central.url,
        "--header",
        `Authorization: Bearer ${key}`,
        "--checks",
        CHECKS.join(","),
        "--max-time",
        String(SECONDS_PER_ROLE),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--exclude-operation-id",
        "connectAgent",
        "--exclude-operation-id",
        "streamEvents",
        ...only,
        "--no-color",
      ],
      {
        cwd: mkdtempSync(join(tmpdir(), "auraison-fuzz-run-")),
        env: PYTHON_ENV,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(!installed && process.env.CI !== "true")(
  "the OpenAPI document under schemathesis",
  () => {
    it("schemathesis is installed (npm run fuzz:install)", () => {
      expect(installed).toBe(true);
    });

    it("Hypothesis draws the literals of our hooks module, and none of the libraries'", () => {
      // Hypothesis' own (private) collector, after the imports schemathesis makes.
      const script = [
        "import json, schemathesis, requests, urllib3, auraison_fuzz_literals",
        "from hypothesis.internal.conjecture.providers import _get_local_constants",
        "c = _get_local_constants()",
        "print(json.dumps({'strings': sorted(c.strings), 'integers': sorted(c.integers)}))",
      ].join("\n");
      const drawn = JSON.parse(
        execFileSync("python3", ["-c", script], { env: PYTHON_ENV }).toString(),
      );
      expect(drawn.strings).toContain("__proto__");
      expect(drawn.strings).toContain("constructor");
      expect(drawn.integers).toContain(2147483648);
      expect(drawn.strings).not.toContain("@@@SKIP_HEADER@@@");
      expect(drawn.strings.length).toBeLessThan(40);
    });

    // The admin runs last, and revoking keys apart: a fuzzed revocation may hit the key the
    // fuzzer itself is using, after which every answer would be a (correct, useless) 401.
    const runs: [Role | "bootstrap", string, string[]][] = [
      ["viewer", "", []],
      ["agent", "", []],
      ["operator", "", []],
      ["bootstrap", "", []],
      ["admin", " (revoking keys)", ["--include-operation-id", "revokeKey"]],
      ["admin", "", ["--exclude-operation-id", "revokeKey"]],
    ];
    for (const [role, what, only] of runs) {
      it(
        `every operation, fuzzed with the ${role} key${what}, answers as documented`,
        async () => {
          const { code, output } = await fuzz(keys[role], only);
          const failures = output.indexOf("=== FAILURES");
          expect(code, output.slice(failures >= 0 ? failures : -6000).slice(0, 12_000)).toBe(0);
        },
        (SECONDS_PER_ROLE + 120) * 1000,
      );
    }
  },
);
