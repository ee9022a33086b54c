import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { MAX_PAGE, pageSize } from '../../common/paging.js';
import { CordonException } from '../../common/cordon.exception.js';
import { uuid } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import type { NotificationRow } from './dispute.rows.js';
import { updatedRows } from '../../common/validate.js';
import type { Tx } from '../audit/transactions.js';
import { SightingsService } from './sightings.service.js';
import { WebhookStore } from '../webhooks/webhook.store.js';

const COLUMNS = 'id, member_id, indicator_id, kind, message, created_at, read_at';

/** Notifications of the caller's own member (the remedy: an indicator it acted on was revoked). */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly sightings: SightingsService,
    private readonly webhooks: WebhookStore,
  ) {}

  /**
   * The remedy: members that reported ACTIONED on an indicator are told, in the transaction that
   * revokes it, so they can reverse what they did. Returns how many were told.
   */
  async notifyActioned(tx: Tx, indicatorId: string, kind: 'REVOKED' | 'DISPUTE_UPHELD', message: string): Promise<number> {
    const members = await this.sightings.actionedMembers(tx, indicatorId);
    if (members.length === 0) return 0;
    const rows = await tx.query<NotificationRow>(
      `INSERT INTO notification (member_id, indicator_id, kind, message, created_at) SELECT u.m, $2, $3, $4, $5 FROM unnest($1::uuid[]) AS u(m)
       RETURNING ${COLUMNS}`,
      [members, indicatorId, kind, message, this.clock.now()],
    );
    await this.webhooks.enqueueNotifications(tx, rows);
    return members.length;
  }

  /**
   * A disputant hears how its dispute ended (DISPUTE_RESOLVED), each member its own outcome only:
   * `message` is written for that member (the curator's note only to the member whose dispute it
   * resolves).
   */
  async notifyDisputants(tx: Tx, indicatorId: string, told: { memberId: string; message: string }[]): Promise<void> {
    if (told.length === 0) return;
    const rows = await tx.query<NotificationRow>(
      `INSERT INTO notification (member_id, indicator_id, kind, message, created_at)
       SELECT u.m, $3, 'DISPUTE_RESOLVED', u.msg, $4 FROM unnest($1::uuid[], $2::text[]) AS u(m, msg)
       RETURNING ${COLUMNS}`,
      [told.map((t) => t.memberId), told.map((t) => t.message), indicatorId, this.clock.now()],
    );
    await this.webhooks.enqueueNotifications(tx, rows);
  }

  /** A notification to one member about no indicator (a webhook disabled after failures). */
  async notifyMember(tx: Tx, memberId: string, kind: string, message: string): Promise<void> {
    const rows = await tx.query<NotificationRow>(
      `INSERT INTO notification (member_id, indicator_id, kind, message, created_at) VALUES ($1, NULL, $2, $3, $4) RETURNING ${COLUMNS}`,
      [memberId, kind, message, this.clock.now()],
    );
    await this.webhooks.enqueueNotifications(tx, rows);
  }

  /** Newest first. */
  async list(caller: Caller, unreadOnly: boolean, first: number | null | undefined): Promise<NotificationRow[]> {
    const size = pageSize(first, MAX_PAGE, 100);
    return (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM notification WHERE member_id = $1 ${unreadOnly ? 'AND read_at IS NULL' : ''}
        ORDER BY created_at DESC, id DESC LIMIT $2`,
      [caller.memberId, size],
    )) as NotificationRow[];
  }

  /** Marks one of the member's own notifications read (the first acknowledgement's time stays). */
  async acknowledge(caller: Caller, id: string): Promise<NotificationRow> {
    const notificationId = uuid('id', id);
    return this.dataSource.transaction(async (em) => {
      const [before] = (await em.query(`SELECT read_at FROM notification WHERE id = $1 AND member_id = $2 FOR UPDATE`, [
        notificationId,
        caller.memberId,
      ])) as { read_at: Date | null }[];
      if (!before) throw CordonException.notFound('notification', 'id');
      const [row] = updatedRows<NotificationRow>(await em.query(
        `UPDATE notification SET read_at = COALESCE(read_at, $2) WHERE id = $1 RETURNING ${COLUMNS}`,
        [notificationId, this.clock.now()],
      ));
      await this.audit.record(em, {
        action: 'notification.acknowledge',
        actor: caller,
        subjectId: row.id,
        subjectMemberId: caller.memberId,
        data: { kind: row.kind, indicatorId: row.indicator_id, alreadyRead: before.read_at !== null },
      });
      return row;
    });
  }
}
