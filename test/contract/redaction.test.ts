import { describe, expect, it } from "vitest";
import {
  isSecretName,
  LIMITS,
  REDACTED,
  redact,
  redactedExcerpt,
  redactedTail,
  redactString,
  TOKEN_RULE_IDS,
  TOKEN_RULES_SOURCE,
  tailText,
  truncateText,
  withholdValues,
} from "../../contract";

describe("redaction", () => {
  it("masks key- and token-shaped values wherever they appear in a string", () => {
    const cases = [
      `aur_agent_acme_${"k".repeat(43)}`,
      `aur_boot_${"b".repeat(43)}`,
      `sk-${"a".repeat(40)}`,
      `sk-proj-${"Ab9".repeat(15)}`,
      `sk-ant-api03-${"x".repeat(40)}`,
      "AKIAIOSFODNN7EXAMPLE",
      `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhYmMifQ.${"c".repeat(30)}`,
      `ghp_${"g".repeat(36)}`,
      `xoxb-${"1".repeat(12)}-abc`,
      `AIza${"z".repeat(35)}`,
    ];
    for (const secret of cases) {
      const masked = redactString(`before ${secret} after`);
      expect(masked, secret).toBe(`before ${REDACTED} after`);
    }
    expect(redactString(`Authorization: Bearer ${"t".repeat(30)}`)).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
    expect(redactString('{"api_key":"abcd1234","x":1}')).toBe(`{"api_key":"${REDACTED}","x":1}`);
    expect(redactString("psql --password=s3cr3tpw --host db")).toBe(
      `psql --password=${REDACTED} --host db`,
    );
    expect(
      redactString("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----"),
    ).toBe(REDACTED);
  });

  it("leaves ordinary text and ids that merely contain a secret-like substring alone", () => {
    for (const text of [
      "task-sk-1",
      "call_sk-abc",
      "tokens_in=5 max_tokens: 10",
      "a normal sentence about tokens",
      "run 01a1ffe0-dac5-76b3",
    ])
      expect(redactString(text)).toBe(text);
  });

  it("blanks fields named like secrets, but not counts or ids", () => {
    for (const name of [
      "password",
      "apiKey",
      "api_key",
      "API-KEY",
      "client_secret",
      "authorization",
      "github_token",
      "token",
      "private_key",
      "Cookie",
    ])
      expect(isSecretName(name), name).toBe(true);
    for (const name of [
      "tokens_in",
      "token_count",
      "max_tokens",
      "input_tokens",
      "tool_call_id",
      "secret_id",
      "password_hash_algo",
      "keyboard",
    ])
      expect(isSecretName(name), name).toBe(false);
    const value = {
      detail: { password: "pw", nested: [{ token: 5, tokens_in: 5 }] },
      ok: true,
      n: 1,
    };
    expect(redact(value)).toEqual({
      detail: { password: REDACTED, nested: [{ token: REDACTED, tokens_in: 5 }] },
      ok: true,
      n: 1,
    });
    const clean = { a: "plain", b: [1, 2] };
    expect(redact(clean)).toBe(clean);
  });
});

/** Random characters from `alphabet`, so no real-looking secret is committed to the repository. */
function random(alphabet: string, length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const ALNUM = `${LOWER}${LOWER.toUpperCase()}0123456789`;
const HEX = "0123456789abcdef";
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Tokens of the families lab hosts carry, each built at run time in its family's shape. */
const FAMILIES: Record<string, () => string> = {
  "Hugging Face": () => `hf_${random(`${LOWER}${LOWER.toUpperCase()}`, 34)}`,
  "Hugging Face org": () => `api_org_${random(`${LOWER}${LOWER.toUpperCase()}`, 34)}`,
  "GitLab personal": () => `glpat-${random(`${ALNUM}_-`, 20)}`,
  "GitLab runner": () => `glrt-${random(`${ALNUM}_-`, 20)}`,
  "Stripe live": () => `${"sk"}_live_${random(ALNUM, 24)}`,
  "Stripe restricted": () => `${"rk"}_live_${random(ALNUM, 24)}`,
  npm: () => `npm_${random(`${LOWER}0123456789`, 36)}`,
  "PyPI upload": () => `pypi-AgEIcHlwaS5vcmc${random(`${ALNUM}-_`, 60)}`,
  "AWS access key": () => `AKIA${random(B32, 16)}`,
  "Slack bot": () =>
    `xoxb-${random("0123456789", 12)}-${random("0123456789", 12)}-${random(ALNUM, 24)}`,
  "Slack app": () =>
    `xapp-1-A${random("0123456789ABCDEFGHJK", 10)}-${random("0123456789", 13)}-${random(HEX, 64)}`,
  "Slack webhook": () => `https://hooks.slack.com/services/${random(`${ALNUM}`, 44)}`,
  "GitHub classic": () => `ghp_${random(ALNUM, 36)}`,
  "GitHub fine-grained": () => `github_pat_${random(ALNUM, 22)}_${random(ALNUM, 59)}`,
  OpenAI: () => `sk-proj-${random(`${ALNUM}_-`, 74)}T3BlbkFJ${random(`${ALNUM}_-`, 74)}`,
  Anthropic: () => `sk-ant-api03-${random(`${ALNUM}_-`, 93)}AA`,
  "Google API": () => `AIza${random(`${ALNUM}_-`, 35)}`,
  DigitalOcean: () => `dop_v1_${random(HEX, 64)}`,
  Databricks: () => `dapi${random(HEX, 32)}`,
  "Grafana service account": () => `glsa_${random(ALNUM, 32)}_${random(HEX, 8)}`,
  SendGrid: () => `SG.${random(`${ALNUM}_-`, 22)}.${random(`${ALNUM}_-`, 43)}`,
  "age secret key": () => `AGE-SECRET-KEY-1${random("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)}`,
  JWT: () => `eyJ${random(ALNUM, 20)}.eyJ${random(ALNUM, 30)}.${random(`${ALNUM}_-`, 43)}`,
  Auraison: () => `aur_agent_lab_${random(`${ALNUM}_-`, 43)}`,
};

describe("withheld values", () => {
  it("masks values handed to a run wherever they appear, whatever their shape, from then on", () => {
    const value = "plain-words-9931";
    const text = `header ${value}; again:${value}.`;
    expect(redactString(text)).toBe(text);
    withholdValues([value, "plain-words-9931-longer"]);
    expect(redactString(text)).toBe(`header ${REDACTED}; again:${REDACTED}.`);
    expect(redactString("plain-words-9931-longer!")).toBe(`${REDACTED}!`);
    expect(redact({ deep: [{ echo: value }] })).toEqual({ deep: [{ echo: REDACTED }] });
    expect(() => withholdValues(["short"])).toThrow(/at least 8/);
  });

  it("masks a value with quotes or backslashes in its JSON-escaped forms too (once and twice)", () => {
    const value = 'pa"ss\\w0rd-Zq7';
    withholdValues([value]);
    // An adapter's result as the model reads it, and an event holding that text as written.
    const once = JSON.stringify({ echoed: value, header: `Bearer ${value}` });
    const twice = JSON.stringify({ result: once });
    const escaped = JSON.stringify(value).slice(1, -1);
    expect(once).toContain(escaped);
    expect(redactString(once)).toBe(
      JSON.stringify({ echoed: REDACTED, header: `Bearer ${REDACTED}` }),
    );
    expect(redactString(twice)).toBe(JSON.stringify({ result: redactString(once) }));
    const decoded = JSON.parse(JSON.parse(redactString(twice)).result);
    expect(JSON.stringify(decoded)).not.toContain("w0rd-Zq7");
    expect(redact({ result: once }).result).not.toContain("w0rd-Zq7");
  });

  it("masks secrets used as object keys, keeping every entry and leaving ordinary keys alone", () => {
    const value = "keyed-secret-Vw82";
    withholdValues([value, "other-secret-Qx19"]);
    const answer = {
      id: "s1",
      [value]: 1,
      "other-secret-Qx19": { nested: { [`prefix ${value}`]: 2 } },
      [REDACTED]: "was there before",
    };
    expect(redact(answer)).toEqual({
      id: "s1",
      [`${REDACTED} (2)`]: 1,
      [`${REDACTED} (3)`]: { nested: { [`prefix ${REDACTED}`]: 2 } },
      [REDACTED]: "was there before",
    });
    // A token as a key, in an array of objects; an object with nothing to mask is shared.
    const token = `ghp_${"A1b2C3d4E5".repeat(4).slice(0, 36)}`;
    const plain = { sample: "s1", mass_g: 3 };
    const out = redact({ rows: [{ [token]: true }, plain] });
    expect(Object.keys(out.rows[0]!)).toEqual([REDACTED]);
    expect(out.rows[1]).toBe(plain);
  });

  it("masks a `__proto__` key (as JSON.parse makes it) and its value, as an own entry", () => {
    const value = "proto-secret-Lk55";
    withholdValues([value]);
    const parsed = JSON.parse(
      `{"__proto__": "${value}", "${value}": {"__proto__": {"x": "${value}"}}}`,
    );
    const out = redact(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(JSON.stringify(out)).toBe(
      JSON.stringify(
        JSON.parse(
          `{"__proto__": "${REDACTED}", "${REDACTED}": {"__proto__": {"x": "${REDACTED}"}}}`,
        ),
      ),
    );
    expect(JSON.stringify(out)).not.toContain(value);
  });
});

describe("excerpts", () => {
  it("redacts the whole text before cutting it, so a secret the cut splits leaves nothing", () => {
    const value = "excerptSecretQ8w3Zr5Lm2Kp9Xv4";
    withholdValues([value]);
    const max = LIMITS.toolPayloadChars;
    // Padding that puts truncateText's cut four characters before the secret's end.
    let head = "";
    for (let pad = max - 200; pad < max; pad++) {
      const text = `${"x".repeat(pad)}${value}${"y".repeat(1000)}`;
      if (
        truncateText(text, max).includes(value.slice(0, -4)) &&
        !truncateText(text, max).includes(value)
      ) {
        head = text;
        break;
      }
    }
    expect(head).not.toBe("");
    expect(redactString(truncateText(head, max))).toContain(value.slice(0, -4));
    const excerpt = redactedExcerpt(head, max);
    expect(excerpt).not.toContain(value.slice(0, 8));
    expect(excerpt).toMatch(/…\[truncated \d+ chars\]$/);
    expect(excerpt.length).toBeLessThanOrEqual(max);

    // A tail cut through the secret's start keeps its end unless redacted first.
    const tail = `${"x".repeat(1000)}${value}${"y".repeat(1979)}`;
    expect(tailText(tail, 2000)).toContain(value.slice(-20));
    expect(redactedTail(tail, 2000)).not.toContain(value.slice(-8));
    expect(redactedTail(tail, 2000).length).toBeLessThanOrEqual(2000);
    expect(redactedExcerpt("short text", 100)).toBe("short text");
  });
});

describe("token families from the maintained rule set", () => {
  it("comes from gitleaks' rules, all of them compiled", () => {
    expect(TOKEN_RULES_SOURCE).toMatch(/^gitleaks v8\./);
    expect(TOKEN_RULE_IDS.length).toBeGreaterThan(200);
    for (const id of [
      "huggingface-access-token",
      "gitlab-pat",
      "stripe-access-token",
      "npm-access-token",
      "aws-access-token",
      "slack-bot-token",
      "generic-api-key",
    ])
      expect(TOKEN_RULE_IDS).toContain(id);
    // Every rule compiles and runs (a string with every keyword wakes them all).
    expect(() => redactString(`probe ${"x".repeat(10)}`)).not.toThrow();
  });

  for (const [family, make] of Object.entries(FAMILIES)) {
    it(`masks ${family} tokens in prose, in commands and after NAME_ assignments`, () => {
      const token = make();
      for (const text of [
        `here it is: ${token} (keep it safe)`,
        `curl -s "https://example.test/api?x=1" ${token}`,
        `export LAB_SECRET_TOKEN=${token}`,
        JSON.stringify({ output: `stdout: ${token}\n` }),
      ]) {
        const masked = redactString(text);
        expect(masked, `${family}: ${text}`).not.toContain(token);
        expect(masked).toContain(REDACTED);
      }
    });
  }

  it("masks values named like keys after an underscore (HF_TOKEN=, WANDB_API_KEY=, GITLAB_TOKEN=)", () => {
    const wandb = random(HEX, 40);
    for (const [text, secret] of [
      [`WANDB_API_KEY=${wandb}`, wandb],
      [`wandb_api_key: "${wandb}"`, wandb],
      [`HF_TOKEN=${random(ALNUM, 30)}`, null],
      ["MY_SERVICE_PASSWORD=hunter2hunter2", "hunter2hunter2"],
    ] as const) {
      const masked = redactString(text);
      expect(masked, text).toContain(REDACTED);
      if (secret) expect(masked).not.toContain(secret);
    }
  });

  it("leaves ordinary event text alone", () => {
    for (const text of [
      "tokens_in=1200 tokens_out=340 cost_usd=0.0031",
      "run 01a1ffe0-dac5-76b3-9c2e-5b1b5b87211e finished in 1234 ms",
      "the keyboard shortcut for access is ctrl-k",
      "commit 3f7c457a9e1d2c4b5a6f7e8d9c0b1a2f3e4d5c6b merged",
      "model gpt-4.1-mini answered with 12 tokens",
    ])
      expect(redactString(text)).toBe(text);
  });
});

describe("cost on hostile input", () => {
  it("redacts a 32 KB run of keywords in bounded time (no regex backtracking blow-up)", () => {
    redactString("warm up the rules once");
    for (const text of ["key".repeat(11_000), "key=".repeat(8_000), `ey${"A".repeat(32_000)}`]) {
      const started = performance.now();
      redactString(text);
      // Linear work takes milliseconds; backtracking over 32 KB takes seconds. The bound leaves
      // room for a loaded machine (150 ms was crossed at 162 under load).
      expect(performance.now() - started, text.slice(0, 12)).toBeLessThan(1_000);
    }
  });
});

describe("a redacted tail of a long text", () => {
  it("is the tail of the whole text redacted, whatever the text's length and wherever its secrets", () => {
    const secret = "tailWindowSecretR7u2Wq9Kx4Zp";
    withholdValues([secret]);
    const max = 2_000;
    for (const length of [1_000, 19_000, 20_000, 40_000, 200_000])
      for (const at of [
        0,
        length - max - 16_390,
        length - max - 5,
        length - max + 3,
        length - 30,
      ]) {
        if (at < 0) continue;
        const text = `${"x".repeat(at)}${secret}${"y".repeat(Math.max(0, length - at))}`;
        expect(redactedTail(text, max)).toBe(tailText(redactString(text), max));
      }
    // A window whose secrets shorten it past the cut's margin (a long secret, over and over,
    // one of them split by the window's start): the whole text is redacted instead.
    const long = `longWithheld${"Q7".repeat(100)}`;
    withholdValues([long]);
    const dense = `${"z".repeat(50_000)}${`${long} `.repeat(200)}`;
    expect(redactedTail(dense, max)).toBe(tailText(redactString(dense), max));
  });
});
