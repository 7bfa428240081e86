/**
 * A record's own entry for a key that came from outside (a requested model, an app, a tool's
 * name), or undefined. A plain `record[key]` answers Object.prototype's members for keys like
 * `constructor` or `__proto__`, which a tenant can send: a model named `__proto__` once made
 * routing read a function's `candidates` and answer 500 (test/contract/own.test.ts, and
 * test/central/gateway/routing/router.test.ts "prototype member names").
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
