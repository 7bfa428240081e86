/** Milliseconds spent per step of a lake transaction, summed over batches: the sync's profile. */
export type Steps = Record<string, number>;

export async function timed<T>(steps: Steps, name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    steps[name] = (steps[name] ?? 0) + performance.now() - started;
  }
}
