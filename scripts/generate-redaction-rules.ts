/**
 * Writes contract/redaction/token-rules.json from gitleaks' maintained rule set
 * (contract/redaction/gitleaks.toml, a verbatim copy of gitleaks' config/gitleaks.toml, MIT):
 * every rule's regex translated from Go's RE2 syntax to a JavaScript pattern both runtimes
 * compile (scoped `(?i:...)`, `(?-i:...)` and `(?s:...)` flags expanded, since Node 20 lacks
 * regexp modifiers), with its keywords, secret group, entropy floor and allowlists.
 * `--check` writes nothing and exits 1 when the committed file is stale.
 *
 * To take a newer rule set: replace gitleaks.toml with the new release's config/gitleaks.toml,
 * set GITLEAKS_VERSION below, run `npm run redaction-rules`, and run the redaction tests.
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

const GITLEAKS_VERSION = "v8.30.0-27-gb58d3f10 (b58d3f102cf3a2c84cb7f923d05c25c9b1aed84b)";
const source = fileURLToPath(new URL("../contract/redaction/gitleaks.toml", import.meta.url));
const target = fileURLToPath(new URL("../contract/redaction/token-rules.json", import.meta.url));
const check = process.argv.includes("--check");

interface UpstreamAllowlist {
  condition?: string;
  regexTarget?: string;
  regexes?: string[];
  stopwords?: string[];
  paths?: string[];
  commits?: string[];
}
interface UpstreamRule {
  id: string;
  regex?: string;
  path?: string;
  secretGroup?: number;
  entropy?: number;
  keywords?: string[];
  allowlists?: UpstreamAllowlist[];
}

/** Letters both ways, for a case-insensitive stretch of a pattern. */
function bothCases(char: string): string {
  const lower = char.toLowerCase();
  const upper = char.toUpperCase();
  return lower === upper ? char : `[${lower}${upper}]`;
}

/** A character class body (between the brackets), case-folded when `ci`. */
function translateClass(body: string, ci: boolean): string {
  let out = "";
  let i = 0;
  while (i < body.length) {
    const posix = /^\[:(\^?)([a-z]+):\]/.exec(body.slice(i));
    if (posix) {
      const sets: Record<string, string> = {
        alnum: "a-zA-Z0-9",
        alpha: "a-zA-Z",
        digit: "0-9",
        lower: ci ? "a-zA-Z" : "a-z",
        upper: ci ? "a-zA-Z" : "A-Z",
        space: "\\s",
        xdigit: "0-9a-fA-F",
        word: "\\w",
        punct: "!-\\/:-@\\[-`{-~",
      };
      const set = sets[posix[2]!];
      if (!set || posix[1]) throw new Error(`POSIX class [:${posix[1]}${posix[2]}:]`);
      out += set;
      i += posix[0].length;
      continue;
    }
    if (body[i] === "\\") {
      out += body.slice(i, i + 2);
      i += 2;
      continue;
    }
    const range = /^([A-Za-z])-([A-Za-z])/.exec(body.slice(i));
    if (range && ci) {
      const [a, b] = [range[1]!, range[2]!];
      out += `${a.toLowerCase()}-${b.toLowerCase()}${a.toUpperCase()}-${b.toUpperCase()}`;
      i += 3;
      continue;
    }
    const char = body[i]!;
    out += ci && /[A-Za-z]/.test(char) ? `${char.toLowerCase()}${char.toUpperCase()}` : char;
    i += 1;
  }
  return out;
}

/** Go RE2 syntax to a JavaScript pattern with the same meaning, flags expanded in place. */
export function translate(pattern: string): string {
  let out = "";
  let ci = false;
  let dotAll = false;
  const stack: { ci: boolean; dotAll: boolean }[] = [];
  let i = 0;
  while (i < pattern.length) {
    const rest = pattern.slice(i);
    const char = pattern[i]!;
    if (char === "\\") {
      const next = pattern[i + 1]!;
      if (next === "z") out += "$";
      else if (next === "A") out += "^";
      else if (next === "Q" || next === "C" || next === "p" || next === "P")
        throw new Error(`escape \\${next}`);
      else if (next === "x" && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i);
        out += `\\u{${pattern.slice(i + 3, end)}}`;
        i = end + 1;
        continue;
      } else out += `\\${next}`;
      i += 2;
      continue;
    }
    if (char === "[") {
      let j = i + 1;
      if (pattern[j] === "^") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") {
        if (pattern[j] === "\\") j += 2;
        else if (pattern.startsWith("[:", j)) j = pattern.indexOf(":]", j) + 2;
        else j++;
      }
      const negated = pattern[i + 1] === "^";
      const body = pattern.slice(i + 1 + (negated ? 1 : 0), j);
      out += `[${negated ? "^" : ""}${translateClass(body, ci)}]`;
      i = j + 1;
      continue;
    }
    const flags = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
    if (flags && (flags[1] || flags[2])) {
      const apply = (on: string, off: string) => {
        for (const f of on) {
          if (f === "i") ci = true;
          else if (f === "s") dotAll = true;
          else throw new Error(`flag ${f}`);
        }
        for (const f of off) {
          if (f === "i") ci = false;
          else if (f === "s") dotAll = false;
          else throw new Error(`flag -${f}`);
        }
      };
      if (flags[3] === ")") apply(flags[1] ?? "", flags[2] ?? "");
      else {
        stack.push({ ci, dotAll });
        apply(flags[1] ?? "", flags[2] ?? "");
        out += "(?:";
      }
      i += flags[0].length;
      continue;
    }
    if (rest.startsWith("(?P<")) {
      stack.push({ ci, dotAll });
      out += "(?<";
      i += 4;
      continue;
    }
    if (char === "(") {
      stack.push({ ci, dotAll });
      out += rest.startsWith("(?:") ? "(?:" : "(";
      i += rest.startsWith("(?:") ? 3 : 1;
      continue;
    }
    if (char === ")") {
      const saved = stack.pop();
      if (saved) ({ ci, dotAll } = saved);
      out += ")";
      i += 1;
      continue;
    }
    if (char === "{") {
      // A counted repetition is copied whole: its digits are not letters to fold.
      const counted = /^\{\d+(?:,\d*)?\}/.exec(rest);
      if (counted) {
        out += counted[0];
        i += counted[0].length;
        continue;
      }
    }
    if (char === "." && dotAll) out += "[\\s\\S]";
    else out += ci ? bothCases(char) : char;
    i += 1;
  }
  return out;
}

function compiled(pattern: string, where: string): string {
  const js = translate(pattern);
  new RegExp(js, "dg");
  if (js.length === 0) throw new Error(`${where}: empty pattern`);
  return js;
}

function allowlist(list: UpstreamAllowlist, where: string) {
  return {
    target: list.regexTarget ?? "secret",
    and: list.condition?.toUpperCase() === "AND",
    // Paths and commits never match free text: under AND they make the allowlist unreachable.
    unreachable:
      list.condition?.toUpperCase() === "AND" &&
      Boolean(list.paths?.length || list.commits?.length),
    regexes: (list.regexes ?? []).map((r, i) => compiled(r, `${where}.regexes[${i}]`)),
    stopwords: (list.stopwords ?? []).map((w) => w.toLowerCase()),
  };
}

const upstream = parse(await readFile(source, "utf8")) as unknown as {
  allowlist?: UpstreamAllowlist;
  rules: UpstreamRule[];
};
const rules = [];
const skipped: { id: string; reason: string }[] = [];
for (const rule of upstream.rules) {
  if (!rule.regex) {
    skipped.push({ id: rule.id, reason: "matches file paths only" });
    continue;
  }
  if (rule.path) {
    skipped.push({ id: rule.id, reason: "applies to one kind of file only" });
    continue;
  }
  if (!rule.keywords?.length) {
    skipped.push({ id: rule.id, reason: "no keywords to find it by" });
    continue;
  }
  const pattern = compiled(rule.regex, rule.id);
  // Many rules open with a lazy `[\w.-]{0,50}?` that only widens the match to the variable's
  // name. Searched with it, a long run of word characters costs every start position 50 tries
  // (a 32 KB string of "keykey..." took 190 ms); the secret is found without it, and the
  // redactor puts it back only where an allowlist looks at the whole match.
  const prefix = /^\[\\w\.-\]\{0,(\d+)\}\?/.exec(pattern);
  rules.push({
    id: rule.id,
    pattern,
    ...(prefix ? { search: pattern.slice(prefix[0].length), prefixMax: Number(prefix[1]) } : {}),
    secretGroup: rule.secretGroup ?? 0,
    entropy: rule.entropy ?? 0,
    keywords: rule.keywords.map((k) => k.toLowerCase()),
    allowlists: (rule.allowlists ?? []).map((a, i) => allowlist(a, `${rule.id}.allowlists[${i}]`)),
  });
}

const text = `${JSON.stringify(
  {
    source: `gitleaks ${GITLEAKS_VERSION}, config/gitleaks.toml (MIT, see GITLEAKS-LICENSE); generated by scripts/generate-redaction-rules.ts`,
    allowlists: upstream.allowlist ? [allowlist(upstream.allowlist, "allowlist")] : [],
    rules,
    skipped,
  },
  null,
  1,
)}\n`;

const current = await readFile(target, "utf8").catch(() => null);
if (check) {
  if (current !== text) {
    console.error(
      "contract/redaction/token-rules.json is out of date with gitleaks.toml; run: npm run redaction-rules",
    );
    process.exit(1);
  }
  console.log(`contract/redaction: ${rules.length} token rules up to date`);
} else {
  await writeFile(target, text);
  console.log(`wrote ${rules.length} token rules (${skipped.length} skipped) to ${target}`);
}
