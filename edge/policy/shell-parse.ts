import { createRequire } from "node:module";
import { posix } from "node:path";
import { Language, type Node, Parser } from "web-tree-sitter";

/**
 * What the shell guard reads out of a bash command line, parsed by tree-sitter's bash grammar
 * (web-tree-sitter + tree-sitter-bash) rather than by regular expressions over the whole string.
 */
export interface ParsedShellCommand {
  /**
   * Every command the line would run, at any depth (after ; & && || | and newlines, inside
   * $( ), backticks, <( ), >( ), ( ) and { }, in if/while/for/case bodies), each as its source
   * text with its redirections: `ls -la > out.txt`, `touch x`. Builtins, `[ ]`/`[[ ]]` tests and
   * bare assignments (`X=1`) count as commands.
   */
  commands: string[];
  /**
   * Each command and each pipeline or list of them, rewritten canonically for deny rules:
   * quotes and backslashes removed (a word with spaces or shell characters is re-quoted with
   * '...'), `$'...'` decoded, a program's path cut to its basename (`/usr/bin/sudo` -> `sudo`),
   * absolute and `~` paths normalised (`/.` -> `/`), substitutions rendered as `$( )`/`<( )`
   * with their insides rewritten the same way.
   */
  canonical: string[];
  /** Why allow-list mode cannot vouch for the line (constructs it does not run), if it cannot. */
  unsupported: string | null;
}

/** Node types that are one command to check, with their text, against the allow-list. */
const COMMAND_TYPES = new Set([
  "command",
  "declaration_command",
  "unset_command",
  "test_command",
  "variable_assignment",
  "variable_assignments",
]);

/** Structure and word pieces allow-list mode looks through (their commands are checked). */
const STRUCTURE_TYPES = new Set([
  "program",
  "list",
  "pipeline",
  "subshell",
  "compound_statement",
  "redirected_statement",
  "negated_command",
  "if_statement",
  "elif_clause",
  "else_clause",
  "while_statement",
  "for_statement",
  "do_group",
  "case_statement",
  "case_item",
  "comment",
  "file_redirect",
  "heredoc_redirect",
  "heredoc_start",
  "heredoc_body",
  "heredoc_content",
  "heredoc_end",
  "herestring_redirect",
  "file_descriptor",
  "command_name",
  "word",
  "string",
  "string_content",
  "raw_string",
  "ansi_c_string",
  "translated_string",
  "concatenation",
  "number",
  "simple_expansion",
  "expansion",
  "variable_name",
  "special_variable_name",
  "subscript",
  "command_substitution",
  "process_substitution",
  "arithmetic_expansion",
  "binary_expression",
  "unary_expression",
  "parenthesized_expression",
  "postfix_expression",
  "ternary_expression",
  "array",
  "brace_expression",
  "extglob_pattern",
  "regex",
  "test_operator",
]);

/** Statement-level nodes whose canonical rewriting deny rules see. */
const CANONICAL_TYPES = new Set(["command", "redirected_statement", "pipeline", "list"]);

let parser: Promise<Parser> | undefined;

function bashParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const wasm = createRequire(import.meta.url).resolve("tree-sitter-bash/tree-sitter-bash.wasm");
    const p = new Parser();
    p.setLanguage(await Language.load(wasm));
    return p;
  })().catch((error: unknown) => {
    // Loaded again on the next line: a load that failed once (memory, a file busy) does not
    // refuse every command until the agent restarts.
    parser = undefined;
    throw error;
  });
  return parser;
}

/**
 * Parses a bash command line. Throws when the parser cannot be loaded; a line it cannot parse
 * whole (a syntax error, or bash its grammar does not know) comes back with `unsupported` set.
 */
export async function parseShellCommand(command: string): Promise<ParsedShellCommand> {
  const p = await bashParser();
  const tree = p.parse(command);
  if (!tree) return { commands: [], canonical: [], unsupported: "the shell parser gave up" };
  try {
    const root = tree.rootNode;
    const commands: string[] = [];
    const canonical: string[] = [];
    let unsupported: string | null = root.hasError
      ? "it could not be parsed (a syntax error, or shell syntax the guard does not read)"
      : null;
    const visit = (node: Node) => {
      if (!node.isNamed) return;
      const type = node.type;
      if (COMMAND_TYPES.has(type)) {
        const parent = node.parent?.type;
        // Assignments before a command or after `export` are part of that command's text.
        const partOfCommand =
          type === "variable_assignment" &&
          (parent === "command" ||
            parent === "declaration_command" ||
            parent === "variable_assignments" ||
            parent === "for_statement");
        if (!partOfCommand) commands.push(commandText(node));
      } else if (!STRUCTURE_TYPES.has(type)) {
        unsupported ??=
          type === "function_definition"
            ? "it defines a shell function"
            : `it uses shell syntax the guard does not check (${type})`;
      }
      unsupported ??= evaluatesValues(node);
      if (CANONICAL_TYPES.has(type)) canonical.push(render(node));
      for (const child of node.namedChildren) if (child) visit(child);
    };
    visit(root);
    return { commands, canonical, unsupported };
  } finally {
    tree.delete();
  }
}

/**
 * Variables whose value changes what the commands after them run (the program found, the words
 * split, the code sourced or run first).
 */
const EXECUTION_VARIABLES = new Set([
  "PATH",
  "IFS",
  "BASH_ENV",
  "ENV",
  "PROMPT_COMMAND",
  "PS4",
  "SHELLOPTS",
  "BASHOPTS",
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "CDPATH",
  "GLOBIGNORE",
]);

/** Arithmetic bash evaluates: a word that names a variable is evaluated in turn. */
const ARITHMETIC_TEST = /^-(eq|ne|lt|le|gt|ge)$/;

/**
 * Why the line runs code its commands' text does not show, or null. Bash evaluates a variable's
 * value as code in arithmetic (`$((x))`, an array index `${a[x]}`, `[[ x -eq 1 ]]`: a value
 * `a[$(cmd)]` runs `cmd`), in a prompt expansion (`${x@P}`) and through indirection (`${!x}`);
 * a value can come from an earlier command's last word (`$_`) or a `for` loop, which no allow
 * pattern sees. Such lines are refused in allow mode, as are loops over the variables that
 * change what runs (`for PATH in ...`). Test: test/edge/policy/shell-guard.test.ts.
 */
function evaluatesValues(node: Node): string | null {
  const code =
    "it has bash evaluate a value as code (arithmetic on a variable, a prompt expansion or an indirection)";
  switch (node.type) {
    case "arithmetic_expansion":
      return /[A-Za-z_$]/.test(node.text.slice(3, -2)) ? code : null;
    case "subscript": {
      const index = node.childForFieldName("index")?.text ?? "";
      return /^\s*(\d+|@|\*)\s*$/.test(index) ? null : code;
    }
    case "expansion":
      return /^\$\{!/.test(node.text) || /@[A-Za-z]\}$/.test(node.text) ? code : null;
    case "test_command":
      return node
        .descendantsOfType("test_operator")
        .some((op) => op && ARITHMETIC_TEST.test(op.text))
        ? code
        : null;
    case "for_statement": {
      const name = node.childForFieldName("variable")?.text ?? "";
      return EXECUTION_VARIABLES.has(name)
        ? `it loops over ${name}, which changes what runs`
        : null;
    }
    default:
      return null;
  }
}

/** A command's text, with the redirections of the statement it is the body of. */
function commandText(node: Node): string {
  const parent = node.parent;
  if (parent?.type === "redirected_statement" && parent.childForFieldName("body")?.id === node.id)
    return parent.text;
  return node.text;
}

type Segment = { static: string } | { dynamic: string };

function render(node: Node): string {
  switch (node.type) {
    case "command": {
      const parts: string[] = [];
      for (const child of node.namedChildren) {
        if (!child) continue;
        if (child.type === "command_name") {
          const name = child.namedChildren[0];
          const segments = name ? wordSegments(name) : [];
          const value = staticValue(segments);
          parts.push(
            value?.includes("/") && posix.basename(value) !== ""
              ? quote(posix.basename(value))
              : joinSegments(segments),
          );
        } else parts.push(renderPart(child));
      }
      return parts.join(" ");
    }
    case "redirected_statement":
    case "pipeline":
    case "list":
    case "subshell":
    case "compound_statement":
    case "negated_command":
    case "program":
      return node.children
        .filter((c): c is Node => c !== null && c.type !== "comment")
        .map((c) => (c.isNamed ? renderPart(c) : c.type))
        .join(" ");
    default:
      return renderPart(node);
  }
}

/** A statement, a redirect or a word inside a command. */
function renderPart(node: Node): string {
  switch (node.type) {
    case "command":
    case "redirected_statement":
    case "pipeline":
    case "list":
    case "subshell":
    case "compound_statement":
    case "negated_command":
      return render(node);
    case "file_redirect":
    case "herestring_redirect":
      return node.children
        .filter((c): c is Node => c !== null)
        .map((c) => (c.isNamed && c.type !== "file_descriptor" ? renderPart(c) : c.text))
        .join("");
    case "variable_assignment": {
      const value = node.childForFieldName("value");
      const name = node.childForFieldName("name")?.text ?? "";
      return value ? `${name}=${renderPart(value)}` : node.text;
    }
    case "word":
    case "string":
    case "raw_string":
    case "ansi_c_string":
    case "concatenation":
    case "number":
    case "command_substitution":
    case "process_substitution":
      return joinSegments(wordSegments(node));
    default:
      return node.text;
  }
}

function wordSegments(node: Node): Segment[] {
  switch (node.type) {
    case "word":
      // Outside quotes a backslash quotes the next character; backslash-newline is removed.
      return [{ static: node.text.replace(/\\\n/g, "").replace(/\\(.)/gs, "$1") }];
    case "number":
      return [{ static: node.text }];
    case "raw_string":
      return [{ static: node.text.slice(1, -1) }];
    case "ansi_c_string":
      return [{ static: decodeAnsiC(node.text.slice(2, -1)) }];
    case "string":
    case "translated_string":
    case "concatenation": {
      const out: Segment[] = [];
      for (const child of node.namedChildren) {
        if (!child) continue;
        if (child.type === "string_content")
          out.push({ static: child.text.replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1") });
        else out.push(...wordSegments(child));
      }
      return out;
    }
    case "command_substitution": {
      const inner = node.namedChildren.filter((c): c is Node => c !== null);
      return [{ dynamic: `$(${inner.map(render).join("; ")})` }];
    }
    case "process_substitution": {
      const open = node.children[0]?.type ?? "<(";
      const inner = node.namedChildren.filter((c): c is Node => c !== null);
      return [{ dynamic: `${open}${inner.map(render).join("; ")})` }];
    }
    default:
      return [{ dynamic: node.text }];
  }
}

function staticValue(segments: Segment[]): string | null {
  let out = "";
  for (const s of segments) {
    if (!("static" in s)) return null;
    out += s.static;
  }
  return out;
}

function joinSegments(segments: Segment[]): string {
  const value = staticValue(segments);
  if (value !== null) return quote(normalisePath(value));
  let out = "";
  let pending: string | null = null;
  for (const s of segments) {
    if ("static" in s) pending = (pending ?? "") + s.static;
    else {
      if (pending !== null) out += quote(pending);
      pending = null;
      out += s.dynamic;
    }
  }
  if (pending !== null) out += quote(pending);
  return out;
}

/** `/.`, `//`, `/tmp/..` -> `/`; `~/` -> `~`: the spellings rules about `/` and `~` must see. */
function normalisePath(value: string): string {
  if (!value.startsWith("/") && !value.startsWith("~")) return value;
  const normal = posix.normalize(value);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

function quote(value: string): string {
  if (/^[\w@%+=:,./~^-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ANSI_C: Record<string, string> = {
  a: "\x07",
  b: "\b",
  e: "\x1b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "?": "?",
};

/** Bash's `$'...'` escapes (the tree-sitter grammar keeps them as written). */
function decodeAnsiC(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs,
    (match, esc: string) => {
      const head = esc[0] ?? "";
      if (head === "x" || head === "u" || head === "U") {
        const code = Number.parseInt(esc.slice(1), 16);
        return code <= 0x10ffff ? String.fromCodePoint(code) : match;
      }
      if (/[0-7]/.test(head)) return String.fromCharCode(Number.parseInt(esc, 8) & 0xff);
      if (head === "c") return String.fromCharCode((esc.charCodeAt(1) || 0) & 0x1f);
      return ANSI_C[esc] ?? match;
    },
  );
}
