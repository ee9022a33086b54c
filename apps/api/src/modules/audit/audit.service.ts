import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { GroupCommit } from '../../common/group-commit.js';
import { preparedRunner } from '../../common/prepared.js';
import type { Caller } from '../../common/caller.js';
import { canonicalParts } from './audit-canonical.js';

/** Who did it: a caller, or nobody (the system at start-up, an unauthenticated request). */
export interface AuditActor {
  principalId: string;
  memberId: string;
}

export interface AuditEventInput {
  /** dotted verb, e.g. `member.create`, `auth.refused` */
  action: string;
  actor: AuditActor | Caller | null;
  /** the id of the thing acted on (member, principal, key …) */
  subjectId?: string | null;
  /** the member the subject belongs to: what lets a member's AUDITOR see events about it */
  subjectMemberId?: string | null;
  /** what happened; becomes part of the canonical bytes. No secrets, tokens or site URLs. */
  data: Record<string, unknown>;
}

/** What runs a query: the data source (a statement of its own) or a transaction's manager. */
type Runner = { query: (sql: string, params: unknown[]) => Promise<unknown> };

export interface RecordedEvent {
  index: number;
  at: string;
  /** the exact RFC 8785 bytes stored (and hashed into the leaf) */
  canonical: string;
}

/**
 * The one place audit events are written. Each event takes the next index under the single
 * audit_head row lock, held until the caller's transaction commits, so indexes are gapless and
 * in commit order across every process on the database; the event's bytes are RFC 8785
 * canonical JSON stored exactly, with their RFC 9162 leaf hash SHA-256(0x00 || bytes). The
 * Merkle tree over the leaves is integrated after commit (AuditTreeService).
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Records an event inside the caller's transaction: it commits or rolls back with the change. */
  async record(manager: EntityManager, event: AuditEventInput): Promise<RecordedEvent> {
    const [recorded] = await this.recordMany(manager, [event]);
    return recorded;
  }

  /**
   * Records many events (a batch) in ONE statement: it takes the indexes (the sequencing row
   * lock, held to commit), puts each index into its event's canonical bytes and hashes them, all
   * in the database, so the lock is never held across a round trip of ours. Same guarantees as
   * record().
   */
  async recordMany(manager: EntityManager, events: AuditEventInput[]): Promise<RecordedEvent[]> {
    if (events.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditService.recordMany must run inside the transaction of the change it records');
    }
    return this.append(manager, events);
  }

  private async append(runner: Runner, events: AuditEventInput[]): Promise<RecordedEvent[]> {
    return (await this.appendWith<never>(runner, events)).recorded;
  }

  /**
   * Appends events and, in the same statement (one round trip, one commit), runs `select` — a
   * query whose parameters are numbered from the `firstParam` it is given. Its rows come back
   * (those of a LEFT JOIN LATERAL: a single row of nulls when it finds nothing; give it a
   * non-null column to tell). Screening uses it to log a group of calls and look them up at once.
   */
  async appendWith<T>(
    runner: Runner,
    events: AuditEventInput[],
    select?: (firstParam: number) => { sql: string; params: unknown[] },
  ): Promise<{ recorded: RecordedEvent[]; rows: T[] }> {
    const at = this.clock.now().toISOString();
    const salts = randomBytes(SALT_BYTES * events.length);
    const rows = events.map((event, i) => {
      const actor = event.actor ? { principal: event.actor.principalId, member: event.actor.memberId } : null;
      const salt = salts.subarray(i * SALT_BYTES, (i + 1) * SALT_BYTES).toString('base64url');
      const parts = canonicalParts({ salt, at, action: event.action, actor, subject: event.subjectId ?? null, subjectMember: event.subjectMemberId ?? null, data: event.data });
      return { event, actor, ...parts };
    });
    const params: unknown[] = [
      events.length,
      at,
      rows.map((r) => r.event.action),
      rows.map((r) => r.actor?.principal ?? null),
      rows.map((r) => r.actor?.member ?? null),
      rows.map((r) => r.event.subjectId ?? null),
      rows.map((r) => r.event.subjectMemberId ?? null),
      rows.map((r) => r.before),
      rows.map((r) => r.after),
    ];
    const extra = select?.(params.length + 1);
    if (extra) params.push(...extra.params);
    const result = (await runner.query(
      `WITH head AS (UPDATE audit_head SET size = size + $1 RETURNING size - $1 AS start),
       events AS (
         SELECT head.start + u.n - 1 AS idx, u.action, u.actor_principal, u.actor_member, u.subject, u.subject_member,
                u.before || (head.start + u.n - 1)::text || u.after AS canonical
           FROM head, unnest($3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::uuid[], $8::text[], $9::text[])
                WITH ORDINALITY AS u(action, actor_principal, actor_member, subject, subject_member, before, after, n)),
       inserted AS (
         INSERT INTO audit_event (idx, at, action, actor_principal_id, actor_member_id, subject_id, subject_member_id, canonical, leaf_hash)
         SELECT idx, $2, action, actor_principal, actor_member, subject, subject_member, canonical,
                sha256(decode('00', 'hex') || convert_to(canonical, 'UTF8'))
           FROM events)
       ${extra ? `SELECT head.start AS audit_start, q.* FROM head LEFT JOIN LATERAL (${extra.sql}) q ON true` : 'SELECT start AS audit_start FROM head'}`,
      params,
    )) as ({ audit_start: string } & T)[];
    const first = Number(result[0].audit_start);
    return {
      recorded: rows.map((r, i) => ({ index: first + i, at, canonical: `${r.before}${first + i}${r.after}` })),
      rows: result,
    };
  }

  /**
   * Records an event that accompanies no other change (a screening call, a refused sign-in) and
   * resolves once it is committed. Group commit: the first event of a quiet moment is written at
   * once; events that arrive while a write is in flight wait for it and then go together, one
   * transaction for all of them. Under load (32 screening requests in flight) that is one
   * sequencing-lock hold and one commit for many calls instead of one each; when nothing else
   * is waiting, it adds nothing.
   */
  recordAlone(event: AuditEventInput): Promise<RecordedEvent> {
    return this.alone.submit(event);
  }

  // One (prepared) statement, its own transaction: one round trip for the whole group.
  private readonly prepared = preparedRunner(this.dataSource);
  private readonly alone = new GroupCommit<AuditEventInput, RecordedEvent>(MAX_GROUP, (events) => this.append(this.prepared, events));
}

/** Random bytes of an event's salt (audit-canonical.ts): 256 bits. */
const SALT_BYTES = 32;

/** Most events written together by one group commit. */
const MAX_GROUP = 500;
