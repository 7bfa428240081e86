import { tailText, truncateText } from "../primitives";
import TOKEN_RULES from "./token-rules.json" with { type: "json" };

/**
 * Secrets never enter a log, an event, a stored intent or a file on either runtime: central
 * redacts what it stores and logs, the edge what it writes (outbox, run records, sessions), with
 * these rules and no others. Three kinds:
 *
 * - token families from gitleaks' maintained rule set (token-rules.json, generated from
 *   gitleaks.toml by scripts/generate-redaction-rules.ts): Hugging Face, GitLab, Stripe, npm,
 *   AWS, Slack, GitHub, OpenAI, Anthropic, ... and gitleaks' generic `NAME_KEY=value` rule, each
 *   with its keywords, entropy floor and allowlists, as gitleaks applies them;
 * - the platform's own additions: Auraison keys, `Bearer`/`Basic` credentials, `password=...`
 *   style values too short for an entropy rule, and broad shapes of the providers the gateway
 *   talks to (which also catch test and example keys gitleaks allows);
 * - field names: a field named like a secret (`password`, `api_key`, `authorization`, ...)
 *   loses its value, whatever it is (`tokens_in`, `token_count`, `tool_call_id` survive);
 * - values known to be secret, whatever they look like: the tenant secrets an edge agent was
 *   handed for its runs (`withholdValues`), masked wherever they appear.
 */
export const REDACTED = "[REDACTED]";

interface RuleData {
  id: string;
  pattern: string;
  /** The pattern without its leading lazy name prefix, and that prefix's longest length. */
  search?: string;
  prefixMax?: number;
  secretGroup: number;
  entropy: number;
  keywords: string[];
  allowlists: AllowlistData[];
}
interface AllowlistData {
  target: string;
  and: boolean;
  unreachable: boolean;
  regexes: string[];
  stopwords: string[];
}
interface Allowlist {
  target: "secret" | "match" | "line";
  and: boolean;
  regexes: RegExp[];
  stopwords: string[];
}
interface TokenRule {
  id: string;
  /** What finds the secret; `full` (when the search dropped a name prefix) rebuilds the match. */
  regex: RegExp;
  full: { regex: RegExp; prefixMax: number } | null;
  secretGroup: number;
  entropy: number;
  allowlists: Allowlist[];
}

/** Where the token families come from (gitleaks' version), for reports and docs. */
export const TOKEN_RULES_SOURCE: string = TOKEN_RULES.source;

/** Ids of the gitleaks rules in force, for tests and docs. */
export const TOKEN_RULE_IDS: readonly string[] = TOKEN_RULES.rules.map((r) => r.id);

let compiled: {
  rules: TokenRule[];
  global: Allowlist[];
  /** Keywords by their first two characters (as one number), with the rules they unlock. */
  keywords: Map<number, { keyword: string; rules: number[] }[]>;
} | null = null;

function allowlistOf(data: AllowlistData): Allowlist | null {
  if (data.unreachable) return null;
  return {
    target: data.target === "match" || data.target === "line" ? data.target : "secret",
    and: data.and,
    regexes: data.regexes.map((r) => new RegExp(r)),
    stopwords: data.stopwords,
  };
}

/** Compiled on first use: about 220 patterns, a few milliseconds once per isolate or process. */
function tokenRules() {
  if (compiled) return compiled;
  const rules: TokenRule[] = [];
  const keywords = new Map<number, { keyword: string; rules: number[] }[]>();
  for (const data of TOKEN_RULES.rules as RuleData[]) {
    const index = rules.length;
    rules.push({
      id: data.id,
      regex: new RegExp(data.search ?? data.pattern, "dg"),
      full:
        data.search === undefined
          ? null
          : { regex: new RegExp(data.pattern), prefixMax: data.prefixMax ?? 0 },
      secretGroup: data.secretGroup,
      entropy: data.entropy,
      allowlists: data.allowlists.map(allowlistOf).filter((a): a is Allowlist => a !== null),
    });
    for (const keyword of data.keywords) {
      const key = pairCode(keyword, 0);
      const list = keywords.get(key) ?? [];
      const entry = list.find((e) => e.keyword === keyword);
      if (entry) entry.rules.push(index);
      else list.push({ keyword, rules: [index] });
      keywords.set(key, list);
    }
  }
  const global = (TOKEN_RULES.allowlists as AllowlistData[])
    .map(allowlistOf)
    .filter((a): a is Allowlist => a !== null);
  compiled = { rules, global, keywords };
  return compiled;
}

/** Keywords are at least two characters long; one-character keywords index on that one. */
function pairCode(text: string, at: number): number {
  return (text.charCodeAt(at) << 16) | (text.charCodeAt(at + 1) || 0);
}

/** The rules whose keywords occur in `lower` (gitleaks runs a rule only where a keyword is). */
function candidates(lower: string): number[] {
  const { keywords } = tokenRules();
  const found = new Set<number>();
  for (let i = 0; i < lower.length - 1; i++) {
    const list = keywords.get(pairCode(lower, i));
    if (!list) continue;
    for (const { keyword, rules } of list)
      if (lower.startsWith(keyword, i)) for (const rule of rules) found.add(rule);
  }
  return [...found].sort((a, b) => a - b);
}

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

function allowed(lists: Allowlist[], secret: string, match: string, line: string): boolean {
  for (const list of lists) {
    const target = list.target === "match" ? match : list.target === "line" ? line : secret;
    const byRegex = list.regexes.length > 0 && list.regexes.some((r) => r.test(target));
    const lower = secret.toLowerCase();
    const byStopword = list.stopwords.length > 0 && list.stopwords.some((w) => lower.includes(w));
    const verdict = list.and
      ? (list.regexes.length === 0 || byRegex) && (list.stopwords.length === 0 || byStopword)
      : byRegex || byStopword;
    if (verdict) return true;
  }
  return false;
}

/** The match as the rule's full pattern makes it (its name prefix included), for allowlists. */
function wholeMatch(
  rule: TokenRule,
  text: string,
  match: RegExpExecArray | RegExpMatchArray,
): string {
  const start = match.index ?? 0;
  const end = start + match[0].length;
  if (!rule.full) return match[0];
  const from = Math.max(0, start - rule.full.prefixMax);
  return rule.full.regex.exec(text.slice(from, end))?.[0] ?? match[0];
}

function lineAround(text: string, start: number, end: number): string {
  const from = text.lastIndexOf("\n", start - 1) + 1;
  const to = text.indexOf("\n", end);
  return text.slice(from, to === -1 ? text.length : to);
}

/** The spans of `text` gitleaks' rules call secrets, as [start, end) pairs. */
function tokenSpans(text: string): [number, number][] {
  const { rules, global } = tokenRules();
  const spans: [number, number][] = [];
  for (const index of candidates(text.toLowerCase())) {
    const rule = rules[index]!;
    rule.regex.lastIndex = 0;
    for (const match of text.matchAll(rule.regex)) {
      // The rule's secret group, else the first group that matched, else the whole match.
      const firstGroup = match.findIndex((g, i) => i > 0 && g);
      const group = rule.secretGroup > 0 ? rule.secretGroup : Math.max(firstGroup, 0);
      const span = match.indices?.[group];
      if (!span) continue;
      const secret = text.slice(span[0], span[1]);
      if (!secret) continue;
      if (rule.entropy > 0 && shannonEntropy(secret) <= rule.entropy) continue;
      const whole = wholeMatch(rule, text, match).replace(/^\n+|\n+$/g, "");
      const line = lineAround(text, span[0], span[1]);
      if (allowed(global, secret, whole, line) || allowed(rule.allowlists, secret, whole, line))
        continue;
      spans.push([span[0], span[1]]);
    }
  }
  return spans;
}

function maskSpans(text: string, spans: [number, number][]): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = "";
  let at = 0;
  for (const [start, end] of spans) {
    if (end <= at) continue;
    out += text.slice(at, Math.max(at, start));
    if (start >= at) out += REDACTED;
    at = end;
  }
  return out + text.slice(at);
}

/** The platform's own additions (see the top of this file). */
const PLATFORM_VALUE = new RegExp(
  [
    String.raw`\baur_(?:admin|op|view|agent|boot)_[A-Za-z0-9_-]{43,}`,
    "(?<![A-Za-z0-9])sk-(?:proj-|ant-[a-z0-9]{2,8}-)?[A-Za-z0-9_-]{20,}",
    String.raw`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`,
    String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
    String.raw`\bgh[pousr]_[A-Za-z0-9]{36,}\b`,
    String.raw`\bxox[abprs]-[A-Za-z0-9-]{10,}`,
    String.raw`\bAIza[0-9A-Za-z_-]{35}\b`,
    String.raw`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)`,
  ].join("|"),
  "g",
);

/** `Bearer <token>` keeps the scheme; `password=…`, `"api_key": "…"`, `HF_TOKEN=…` keep the name. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const NAMED_VALUE =
  /(?<![A-Za-z0-9])(password|passwd|secret|client_secret|api[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|token)(["']?\s*[:=]\s*["']?)([^\s"'&,;}]{4,})/gi;

const SECRET_NAME_TAIL = new Set([
  "password",
  "passwd",
  "passphrase",
  "secret",
  "token",
  "apikey",
  "authorization",
  "cookie",
  "credential",
  "credentials",
  "bearer",
]);
const SECRET_NAME_PAIRS = new Set([
  "api_key",
  "private_key",
  "secret_key",
  "access_key",
  "set_cookie",
  "session_key",
  "signing_key",
]);

const nameVerdicts = new Map<string, boolean>();

/** Whether a field of this name holds a secret (memoised: payloads reuse a few names). */
export function isSecretName(name: string): boolean {
  let verdict = nameVerdicts.get(name);
  if (verdict === undefined) {
    verdict = judgeName(name);
    if (nameVerdicts.size < 10_000) nameVerdicts.set(name, verdict);
  }
  return verdict;
}

function judgeName(name: string): boolean {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s.]+/g, "_")
    .toLowerCase();
  const parts = snake.split("_").filter(Boolean);
  const last = parts.at(-1);
  if (last === undefined) return false;
  if (SECRET_NAME_TAIL.has(last)) return true;
  return parts.length >= 2 && SECRET_NAME_PAIRS.has(`${parts.at(-2)}_${last}`);
}

/** Exact values to mask (see `withholdValues`), longest first so none is masked only in part. */
let withheld: string[] = [];
/** Shortest value `withholdValues` accepts: shorter ones would mask ordinary words. */
export const WITHHELD_MIN_LENGTH = 8;

/**
 * Masks these exact values from now on, in this process, wherever `redact` runs: the values of
 * tenant secrets an edge agent received for a run, which no pattern would recognise. They stay
 * masked after the run ends (a later run, a fork or a resumed session may still carry them).
 *
 * Each value is also withheld as JSON spells it inside a string, once and twice escaped: an
 * adapter's result or a tool's arguments reach the log as JSON text (`pa\"ss` for `pa"ss`), and
 * an event holding that text is escaped again when it is written; either is one decode away
 * from the value.
 */
export function withholdValues(values: Iterable<string>): void {
  const next = new Set(withheld);
  for (const value of values) {
    if (value.length < WITHHELD_MIN_LENGTH)
      throw new RangeError(`a withheld value needs at least ${WITHHELD_MIN_LENGTH} characters`);
    const escaped = jsonEscaped(value);
    next.add(value).add(escaped).add(jsonEscaped(escaped));
  }
  if (next.size === withheld.length) return;
  withheld = [...next].sort((a, b) => b.length - a.length);
  shortVerdicts.clear();
}

/** `value` as it appears between the quotes of a JSON string. */
function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * Verdicts on short strings, which events repeat (providers, models, tools, statuses): looked
 * up instead of scanned again. Bounded; emptied when full.
 */
const shortVerdicts = new Map<string, string>();
const SHORT = 96;

/** Masks secret-looking substrings of one string. */
export function redactString(text: string): string {
  if (text.length < 8) return text;
  if (text.length > SHORT) return redactText(text);
  let verdict = shortVerdicts.get(text);
  if (verdict === undefined) {
    verdict = redactText(text);
    if (shortVerdicts.size >= 10_000) shortVerdicts.clear();
    shortVerdicts.set(text, verdict);
  }
  return verdict;
}

/**
 * The first `max` characters of `text` (as `truncateText` cuts them), redacted before the cut:
 * a secret the cut splits is no longer recognised, so redacting the excerpt afterwards would
 * leave most of it. Every excerpt of text that may hold a secret is made with this (or
 * `redactedTail`), never by cutting first.
 */
export function redactedExcerpt(text: string, max?: number): string {
  return truncateText(redactString(text), max);
}

/**
 * The longest secret a tail's window allows for: longer than a PEM private key, the longest
 * token a rule knows (withheld values longer than this widen the window).
 */
const LONGEST_SECRET = 8_192;

/**
 * The last `max` characters of `text` (as `tailText` cuts them), redacted before the cut. Only
 * a window of the text is redacted, so a tail of a growing text (a log, a streamed answer) costs
 * the same however long the text: the window reaches `LONGEST_SECRET` (twice) before the cut, so
 * a secret the window's start splits lies wholly in what the cut drops. Should redaction shorten
 * the window so much that it would not, the whole text is redacted instead.
 */
export function redactedTail(text: string, max: number): string {
  const longest = Math.max(LONGEST_SECRET, withheld[0]?.length ?? 0);
  if (text.length <= max + 2 * longest) return tailText(redactString(text), max);
  const window = redactString(text.slice(text.length - max - 2 * longest));
  return tailText(window.length >= max + longest ? window : redactString(text), max);
}

function redactText(text: string): string {
  for (const value of withheld) if (text.includes(value)) text = text.split(value).join(REDACTED);
  return maskSpans(text, tokenSpans(text))
    .replace(PLATFORM_VALUE, REDACTED)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(NAMED_VALUE, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
}

/**
 * Returns `value` with secrets masked; unchanged parts are shared, not copied. Only strings
 * change (values, and keys that hold a secret, which no schema names), so a value that passed a
 * schema still has the same shape afterwards.
 */
export function redact<T>(value: T): T {
  return redactValue(value) as T;
}

function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const next = redactValue(value[i]);
      if (next !== value[i]) {
        out ??= value.slice();
        out[i] = next;
      }
    }
    return out ?? value;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    let next: [key: string, masked: string, inner: unknown][] | null = null;
    for (let i = 0; i < entries.length; i++) {
      const [key, inner] = entries[i]!;
      // Keys too: an upstream may answer with a secret as a field name ({ "<secret>": 1 }).
      const masked = redactString(key);
      const out =
        isSecretName(key) && inner !== null && typeof inner !== "boolean"
          ? REDACTED
          : redactValue(inner);
      if (next === null && masked === key && out === inner) continue;
      next ??= entries.slice(0, i).map(([k, v]) => [k, k, v]);
      next.push([key, masked, out]);
    }
    return next ? rebuilt(next) : value;
  }
  return value;
}

/**
 * A plain object of these entries, keys masked. Masked keys that meet another key (two secrets
 * as keys, or a key already `[REDACTED]`) get a suffix, so no entry is lost. Entries are
 * defined, never assigned: a `__proto__` key (JSON.parse makes one) stays an own entry and is
 * redacted like any other, instead of setting the copy's prototype.
 */
function rebuilt(entries: [key: string, masked: string, inner: unknown][]): object {
  const taken = new Set<string>();
  for (const [key, masked] of entries) if (masked === key) taken.add(key);
  const out = {};
  for (const [key, masked, inner] of entries) {
    let name = masked;
    if (masked !== key) {
      for (let n = 2; taken.has(name); n++) name = `${masked} (${n})`;
      taken.add(name);
    }
    Object.defineProperty(out, name, {
      value: inner,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
