import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import canonicalize from 'canonicalize';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.js';
import type { Caller } from '../../common/caller.js';

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

export interface RecordedEvent {
  index: number;
  at: string;
  canonical: string;
  leafHash: Buffer;
}

/** RFC 9162 leaf hash: SHA-256(0x00 || event bytes). */
export function leafHash(canonical: string): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(canonical, 'utf8').digest();
}

/**
 * The one place audit events are written. Each event takes the next index under the single
 * audit_head row lock, held until the caller's transaction commits, so indexes are gapless and
 * in commit order across every process on the database; the event's bytes are RFC 8785
 * canonical JSON stored exactly, with their leaf hash.
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
   * Records many events in one statement pair (a batch of statements): one sequencing update for
   * all of them, one multi-row insert. Same guarantees as record().
   */
  async recordMany(manager: EntityManager, events: AuditEventInput[]): Promise<RecordedEvent[]> {
    if (events.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive) {
      throw new Error('AuditService.recordMany must run inside the transaction of the change it records');
    }
    const [{ start }] = (await manager.query(
      `WITH head AS (UPDATE audit_head SET size = size + $1 RETURNING size - $1 AS start) SELECT start FROM head`,
      [events.length],
    )) as { start: string }[];
    const first = Number(start);
    const at = this.clock.now().toISOString();
    const rows = events.map((event, i) => {
      const actor = event.actor ? { principal: event.actor.principalId, member: event.actor.memberId } : null;
      const canonical = canonicalize({
        v: 1,
        index: first + i,
        at,
        action: event.action,
        actor,
        subject: event.subjectId ?? null,
        subjectMember: event.subjectMemberId ?? null,
        data: event.data,
      });
      if (canonical === undefined) throw new Error('audit event is not serialisable');
      return { index: first + i, at, canonical, leafHash: leafHash(canonical), event, actor };
    });
    await manager.query(
      `INSERT INTO audit_event
         (idx, at, action, actor_principal_id, actor_member_id, subject_id, subject_member_id, canonical, leaf_hash)
       SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::uuid[], $5::uuid[], $6::text[], $7::uuid[], $8::text[], $9::bytea[])`,
      [
        rows.map((r) => r.index),
        rows.map((r) => r.at),
        rows.map((r) => r.event.action),
        rows.map((r) => r.actor?.principal ?? null),
        rows.map((r) => r.actor?.member ?? null),
        rows.map((r) => r.event.subjectId ?? null),
        rows.map((r) => r.event.subjectMemberId ?? null),
        rows.map((r) => r.canonical),
        rows.map((r) => r.leafHash),
      ],
    );
    return rows.map(({ index, at: when, canonical, leafHash: hash }) => ({ index, at: when, canonical, leafHash: hash }));
  }

  /** Records an event that accompanies no other change (a refused sign-in). */
  recordAlone(event: AuditEventInput): Promise<RecordedEvent> {
    return this.dataSource.transaction((manager) => this.record(manager, event));
  }
}
