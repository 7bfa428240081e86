/**
 * How long a settled call is remembered: far longer than a Worker keeps sending a batch again
 * (its retries end within a request's `waitUntil`, 30 s at most).
 */
const KEPT_MS = 10 * 60_000;

/**
 * The calls this tenant's object has settled lately, so that each call settles once: a Worker
 * whose settlement RPC failed sends the batch again, and the failure may have come after the
 * object applied it (the object reset by a deploy, the connection lost with the answer), which
 * would count the spend, the rate and the `model_call` event twice. Kept in the object's
 * storage (table gateway_settled, schema.ts), in the transaction of the settlement, so a restart
 * does not forget them.
 */
export class SettledCalls {
  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number,
  ) {}

  /** Records the call as settled; false if it already was. */
  first(callId: string): boolean {
    // One statement, on every settled call: the conflict says it was settled before.
    return (
      this.sql.exec(
        "INSERT INTO gateway_settled (call_id, settled_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        callId,
        this.now(),
      ).rowsWritten > 0
    );
  }

  prune(): void {
    this.sql.exec("DELETE FROM gateway_settled WHERE settled_at < ?", this.now() - KEPT_MS);
  }
}
