/**
 * State machines as data: the states, which are terminal, and every legal transition as a
 * (from, on) -> to edge. Code never assigns a status directly; it asks `transition`, which
 * refuses anything not listed, so an illegal move is an error at the point it is attempted.
 */
export interface Edge<S extends string, E extends string> {
  from: S;
  on: E;
  to: S;
  why: string;
}

export interface Machine<S extends string, E extends string> {
  name: string;
  states: readonly S[];
  events: readonly E[];
  initial: S;
  terminal: readonly S[];
  edges: readonly Edge<S, E>[];
}

export type TransitionResult<S extends string, E extends string> =
  | { ok: true; from: S; on: E; to: S }
  | { ok: false; from: S; on: E; error: string; allowed: E[] };

export class IllegalTransitionError extends Error {
  constructor(
    readonly machine: string,
    readonly from: string,
    readonly on: string,
    readonly allowed: string[],
  ) {
    super(
      `${machine}: '${on}' is not allowed from '${from}'` +
        (allowed.length ? ` (allowed: ${allowed.join(", ")})` : ` ('${from}' is terminal)`),
    );
    this.name = "IllegalTransitionError";
  }
}

export function defineMachine<const S extends string, const E extends string>(
  machine: Machine<S, E>,
): Machine<S, E> {
  const seen = new Set<string>();
  for (const edge of machine.edges) {
    const key = `${edge.from}\u0000${edge.on}`;
    if (seen.has(key))
      throw new Error(`${machine.name}: duplicate edge ${edge.from} --${edge.on}-->`);
    seen.add(key);
    if (machine.terminal.includes(edge.from))
      throw new Error(`${machine.name}: terminal state ${edge.from} has an outgoing edge`);
  }
  return machine;
}

export function allowedEvents<S extends string, E extends string>(m: Machine<S, E>, from: S): E[] {
  return m.edges.filter((e) => e.from === from).map((e) => e.on);
}

export function transition<S extends string, E extends string>(
  m: Machine<S, E>,
  from: S,
  on: E,
): TransitionResult<S, E> {
  const edge = m.edges.find((e) => e.from === from && e.on === on);
  if (edge) return { ok: true, from, on, to: edge.to };
  const allowed = allowedEvents(m, from);
  return {
    ok: false,
    from,
    on,
    allowed,
    error: new IllegalTransitionError(m.name, from, on, allowed).message,
  };
}

/** Like `transition` but throws IllegalTransitionError; for code paths where refusal is a bug. */
export function mustTransition<S extends string, E extends string>(
  m: Machine<S, E>,
  from: S,
  on: E,
): S {
  const result = transition(m, from, on);
  if (!result.ok) throw new IllegalTransitionError(m.name, from, on, result.allowed);
  return result.to;
}

export function isTerminal<S extends string, E extends string>(
  m: Machine<S, E>,
  state: S,
): boolean {
  return m.terminal.includes(state);
}

/**
 * The shortest sequence of events that takes `from` to a state where `on` is allowed, through
 * non-terminal states only: [] when `on` is allowed already, null when no path exists. Replaying
 * a partial log uses it to imply the transitions the log lacks (a run started that no log showed
 * dispatched).
 */
export function pathTo<S extends string, E extends string>(
  m: Machine<S, E>,
  from: S,
  on: E,
): E[] | null {
  const queue: { state: S; path: E[] }[] = [{ state: from, path: [] }];
  const seen = new Set<S>([from]);
  while (queue.length) {
    const { state, path } = queue.shift()!;
    if (transition(m, state, on).ok) return path;
    for (const edge of m.edges) {
      if (edge.from !== state || seen.has(edge.to) || isTerminal(m, edge.to)) continue;
      seen.add(edge.to);
      queue.push({ state: edge.to, path: [...path, edge.on] });
    }
  }
  return null;
}
