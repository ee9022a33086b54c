import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { updatedRows } from '../../common/validate.js';
import { type AuditEventInput, AuditService, type RecordedEvent } from './audit.service.js';

/**
 * One write's context, passed first to every write (vendure's RequestContext): who is acting, the
 * transaction every change runs in, and the audit log bound to that transaction — so a change and
 * its audit record always commit together and nobody threads `(em, audit, caller)` by hand.
 */
export class Tx {
  constructor(
    /** The caller; null for the system (the expiry sweep, start-up). */
    readonly caller: Caller | null,
    readonly em: EntityManager,
    private readonly audit: AuditService,
  ) {}

  /** The acting caller; for writes only a caller may make. */
  get actor(): Caller {
    if (!this.caller) throw new Error('this write needs a caller');
    return this.caller;
  }

  /** The rows of a query (TypeORM answers UPDATE/DELETE … RETURNING with `[rows, count]`: the rows). */
  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return updatedRows<T>(await this.em.query(sql, params));
  }

  /** An audit event in this transaction; `actor` defaults to the caller. */
  record(event: Omit<AuditEventInput, 'actor'> & { actor?: AuditEventInput['actor'] }): Promise<RecordedEvent> {
    return this.audit.record(this.em, { ...event, actor: event.actor === undefined ? this.caller : event.actor });
  }

  recordMany(events: (Omit<AuditEventInput, 'actor'> & { actor?: AuditEventInput['actor'] })[]): Promise<RecordedEvent[]> {
    return this.audit.recordMany(
      this.em,
      events.map((e) => ({ ...e, actor: e.actor === undefined ? this.caller : e.actor })),
    );
  }
}

/** Opens write contexts: `transactions.run(caller, (tx) => …)` is one database transaction. */
@Injectable()
export class Transactions {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  run<T>(caller: Caller | null, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((em) => work(new Tx(caller, em, this.audit)));
  }
}
