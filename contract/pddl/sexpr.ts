/** A place in PDDL text, 1-based, for error messages that point at the construct. */
export interface Pos {
  line: number;
  column: number;
}

export interface SAtom {
  kind: "atom";
  /** Lowercased: PDDL names are case-insensitive. */
  value: string;
  pos: Pos;
}

export interface SList {
  kind: "list";
  items: SExpr[];
  pos: Pos;
}

export type SExpr = SAtom | SList;

/** Bad or unsupported PDDL: the message names the construct, `pos` where it is. */
export class PddlError extends Error {
  constructor(
    readonly reason: string,
    readonly pos?: Pos,
  ) {
    super(pos ? `line ${pos.line}, column ${pos.column}: ${reason}` : reason);
    this.name = "PddlError";
  }
}

/**
 * Reads one parenthesised s-expression (a PDDL domain or problem): `;` comments to the end of
 * the line, atoms lowercased. Anything but whitespace and comments after it is an error.
 */
export function readSExpr(text: string): SList {
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Pos => ({ line, column: i - lineStart + 1 });
  const skip = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 10) {
        i++;
        line++;
        lineStart = i;
      } else if (c === 32 || c === 9 || c === 13 || c === 12) i++;
      else if (c === 59) while (i < text.length && text.charCodeAt(i) !== 10) i++;
      else break;
    }
  };
  const stack: SList[] = [];
  let root: SList | undefined;
  skip();
  if (i >= text.length) throw new PddlError("empty input: expected '(define ...)'", here());
  if (text[i] !== "(") throw new PddlError(`expected '(' but found '${text[i]}'`, here());
  while (i < text.length) {
    skip();
    if (i >= text.length) break;
    const c = text[i]!;
    if (c === "(") {
      const list: SList = { kind: "list", items: [], pos: here() };
      if (stack.length > 0) stack[stack.length - 1]!.items.push(list);
      else if (root) throw new PddlError("unexpected text after the closing ')'", here());
      else root = list;
      stack.push(list);
      i++;
    } else if (c === ")") {
      if (stack.length === 0) throw new PddlError("unbalanced ')'", here());
      stack.pop();
      i++;
    } else {
      const pos = here();
      const start = i;
      while (i < text.length && !/[\s();]/.test(text[i]!)) i++;
      if (stack.length === 0) throw new PddlError("unexpected text after the closing ')'", pos);
      stack[stack.length - 1]!.items.push({
        kind: "atom",
        value: text.slice(start, i).toLowerCase(),
        pos,
      });
    }
  }
  if (stack.length > 0)
    throw new PddlError("unbalanced '(': missing ')' before the end", stack[stack.length - 1]!.pos);
  return root!;
}
