import { describe, expect, it } from "vitest";
import { isSecretName, REDACTED, redact, redactString } from "../../central/redact";

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
