/**
 * Search states as packed bitsets (one bit per fact) in one growing Uint32Array, interned
 * through an open-addressing hash table: a state is an integer id, and equal states share it.
 */
export class StateRegistry {
  readonly words: number;
  private pool: Uint32Array;
  private table: Int32Array;
  private hashes: Uint32Array;
  size = 0;

  constructor(facts: number) {
    this.words = Math.max(1, Math.ceil(facts / 32));
    this.pool = new Uint32Array(this.words * 1024);
    this.table = new Int32Array(2048).fill(-1);
    this.hashes = new Uint32Array(1024);
  }

  /** The id of `state` (a bitset of `words` words), adding it if new. */
  intern(state: Uint32Array): { id: number; fresh: boolean } {
    const h = hash(state, this.words);
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot]!;
      if (id < 0) {
        const fresh = this.add(state, h);
        this.table[slot] = fresh;
        if (this.size * 2 > this.table.length) this.rehash();
        return { id: fresh, fresh: true };
      }
      if (this.hashes[id] === h && this.equals(id, state)) return { id, fresh: false };
    }
  }

  /** Copies state `id` into `out`. */
  read(id: number, out: Uint32Array): void {
    out.set(this.pool.subarray(id * this.words, (id + 1) * this.words));
  }

  private add(state: Uint32Array, h: number): number {
    const id = this.size++;
    if ((id + 1) * this.words > this.pool.length) {
      const grown = new Uint32Array(this.pool.length * 2);
      grown.set(this.pool);
      this.pool = grown;
    }
    if (id >= this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.pool.set(state.subarray(0, this.words), id * this.words);
    this.hashes[id] = h;
    return id;
  }

  private equals(id: number, state: Uint32Array): boolean {
    const base = id * this.words;
    for (let w = 0; w < this.words; w++) if (this.pool[base + w] !== state[w]) return false;
    return true;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let id = 0; id < this.size; id++) {
      let slot = this.hashes[id]! & mask;
      while (table[slot]! >= 0) slot = (slot + 1) & mask;
      table[slot] = id;
    }
    this.table = table;
  }
}

function hash(state: Uint32Array, words: number): number {
  let h = 0x811c9dc5;
  for (let w = 0; w < words; w++) {
    h = Math.imul(h ^ state[w]!, 0x01000193);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export function bitsetOf(facts: readonly number[], words: number): Uint32Array {
  const out = new Uint32Array(words);
  for (const f of facts) out[f >>> 5]! |= 1 << (f & 31);
  return out;
}

export const hasFact = (state: Uint32Array, fact: number): boolean =>
  ((state[fact >>> 5]! >>> (fact & 31)) & 1) === 1;
