import { desc, lt } from "drizzle-orm";
import type { AuditEntry, AuditList, AuditQuery } from "../../contract";
import type { Database } from "../db/database";
import { auditLog } from "../db/schema";
import { iso } from "../tenant/context";

export interface AuditRecord {
  principal: string;
  role: string;
  action: string;
  target: string | null;
  outcome: AuditEntry["outcome"];
  status: number;
  requestId: string | null;
  detail?: Record<string, unknown> | null;
}

/** Who did what to which target, with what outcome and when: every mutating call. */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly now: () => number,
  ) {}

  record(entry: AuditRecord): void {
    this.db
      .insert(auditLog)
      .values({ ...entry, detail: entry.detail ?? null, at: this.now() })
      .run();
  }

  list(query: AuditQuery): AuditList {
    const rows = this.db
      .select()
      .from(auditLog)
      .where(query.before === undefined ? undefined : lt(auditLog.id, query.before))
      .orderBy(desc(auditLog.id))
      .limit(query.limit + 1)
      .all();
    const page = rows.slice(0, query.limit);
    return {
      entries: page.map((r) => ({
        id: r.id,
        at: iso(r.at),
        principal: r.principal,
        role: r.role,
        action: r.action,
        target: r.target,
        outcome: r.outcome,
        status: r.status,
        request_id: r.requestId,
        detail: (r.detail ?? null) as AuditEntry["detail"],
      })),
      next: rows.length > query.limit ? page.at(-1)!.id : null,
    };
  }
}
