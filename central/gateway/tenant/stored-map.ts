import type { Logger } from "../../log";

/**
 * Entries kept in memory and written through to the object's storage under a key prefix: read
 * from storage once, at first use; each change written without holding the answer for it
 * (`allowUnconfirmed`: admission must not wait for a storage commit), a failed write logged.
 * What the tenant object must not forget when it restarts, yet reads on every call.
 */
export class StoredMap<V> {
  private entries: Map<string, V> | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  /** Every entry, loaded from storage on first use. */
  all(): Map<string, V> {
    if (!this.entries) {
      this.entries = new Map();
      for (const [key, value] of this.storage.kv.list<V>({ prefix: this.prefix }))
        this.entries.set(key.slice(this.prefix.length), value);
    }
    return this.entries;
  }

  get(id: string): V | undefined {
    return this.all().get(id);
  }

  set(id: string, value: V): void {
    this.all().set(id, value);
    this.storage
      .put(`${this.prefix}${id}`, value, { allowUnconfirmed: true })
      .catch((error: unknown) => this.log.error("storing failed", { key: this.prefix, error }));
  }

  /** Keeps an entry in memory only: it is lost with the object (until set, when it is stored). */
  setUnstored(id: string, value: V): void {
    this.all().set(id, value);
  }

  /** Removes the entry; false if there was none. */
  delete(id: string): boolean {
    if (!this.all().delete(id)) return false;
    this.storage
      .delete(`${this.prefix}${id}`, { allowUnconfirmed: true })
      .catch((error: unknown) => this.log.error("deleting failed", { key: this.prefix, error }));
    return true;
  }
}
