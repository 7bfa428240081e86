/**
 * A binary min-heap of (key, tie-break key, item) over typed arrays, with duplicates allowed:
 * callers skip stale entries (a lazy decrease-key), which is cheaper than tracking positions.
 */
export class MinHeap {
  private keys = new Float64Array(256);
  private ties = new Float64Array(256);
  private items = new Int32Array(256);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  push(key: number, item: number, tie = 0): void {
    if (this.size === this.keys.length) {
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      this.keys = keys;
      const ties = new Float64Array(this.size * 2);
      ties.set(this.ties);
      this.ties = ties;
      const items = new Int32Array(this.size * 2);
      items.set(this.items);
      this.items = items;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(key, tie, parent)) break;
      this.keys[i] = this.keys[parent]!;
      this.ties[i] = this.ties[parent]!;
      this.items[i] = this.items[parent]!;
      i = parent;
    }
    this.keys[i] = key;
    this.ties[i] = tie;
    this.items[i] = item;
  }

  /** The smallest key; only valid when size > 0. */
  topKey(): number {
    return this.keys[0]!;
  }

  /** Removes the entry with the smallest key and returns its item. */
  pop(): number {
    const top = this.items[0]!;
    const n = --this.size;
    if (n > 0) {
      const key = this.keys[n]!;
      const tie = this.ties[n]!;
      const item = this.items[n]!;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && this.less(this.keys[child + 1]!, this.ties[child + 1]!, child))
          child++;
        if (!this.lessThan(child, key, tie)) break;
        this.keys[i] = this.keys[child]!;
        this.ties[i] = this.ties[child]!;
        this.items[i] = this.items[child]!;
        i = child;
      }
      this.keys[i] = key;
      this.ties[i] = tie;
      this.items[i] = item;
    }
    return top;
  }

  /** Whether (key, tie) orders before the entry at `at`. */
  private less(key: number, tie: number, at: number): boolean {
    const k = this.keys[at]!;
    return key < k || (key === k && tie < this.ties[at]!);
  }

  private lessThan(at: number, key: number, tie: number): boolean {
    const k = this.keys[at]!;
    return k < key || (k === key && this.ties[at]! < tie);
  }
}

/**
 * A monotone priority queue for whole-number keys (Dial's buckets): O(1) push and amortised
 * O(1) pop when keys never go below the last popped one, as in h_add/h_max explorations with
 * integer action costs. Same interface as MinHeap's exploration use.
 */
export class BucketQueue {
  private buckets: number[][] = [];
  private current = 0;
  private highest = -1;
  size = 0;

  clear(): void {
    for (let k = 0; k <= this.highest; k++) this.buckets[k]!.length = 0;
    this.current = 0;
    this.highest = -1;
    this.size = 0;
  }

  push(key: number, item: number): void {
    while (this.buckets.length <= key) this.buckets.push([]);
    this.buckets[key]!.push(item);
    if (key > this.highest) this.highest = key;
    if (key < this.current) this.current = key;
    this.size++;
  }

  topKey(): number {
    while (this.buckets[this.current]!.length === 0) this.current++;
    return this.current;
  }

  pop(): number {
    this.size--;
    return this.buckets[this.topKey()]!.pop()!;
  }
}

/** The queue an exploration needs: buckets when every cost is a whole number, else a heap. */
export function explorationQueue(costs: ArrayLike<number>): MinHeap | BucketQueue {
  for (let i = 0; i < costs.length; i++) if (!Number.isInteger(costs[i])) return new MinHeap();
  return new BucketQueue();
}
