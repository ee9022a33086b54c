import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { updatedRows } from '../../common/validate.js';
import type { Tx } from '../audit/transactions.js';

export type WebhookEvent = 'NOTIFICATION' | 'CHANGE';

export interface WebhookRow {
  id: string;
  principal_id: string;
  member_id: string;
  url: string;
  description: string | null;
  events: WebhookEvent[];
  created_at: Date;
  created_by: string;
  disabled_at: Date | null;
  disabled_reason: string | null;
  disabled_by: string | null;
  feed_idx: string;
  feed_id: string;
  consecutive_failures: number;
  next_attempt_at: Date;
  pending: number;
}

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  seq: string;
  event_type: WebhookEvent;
  event: Record<string, unknown>;
  created_at: Date;
  attempts: number;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
}

export interface AttemptOutcome {
  status: number | null;
  error: string | null;
  durationMs: number;
}

const WEBHOOK_COLUMNS = `w.id, w.principal_id, w.member_id, w.url, w.description, w.events, w.created_at, w.created_by, w.disabled_at,
  w.disabled_reason, w.disabled_by, w.feed_idx::text AS feed_idx, w.feed_id, w.consecutive_failures, w.next_attempt_at,
  (SELECT count(*)::int FROM webhook_delivery d WHERE d.webhook_id = w.id AND d.delivered_at IS NULL) AS pending`;
const DELIVERY_COLUMNS = `id, webhook_id, seq::text AS seq, event_type, event, created_at, attempts, last_attempt_at, last_status, last_error, delivered_at`;

/** Wakes every process's dispatcher when a delivery is queued by a transaction (sent on commit). */
export const WEBHOOKS_CHANNEL = 'cordon_webhooks';

type Runner = DataSource | EntityManager;

/**
 * The only writer of webhook, webhook_delivery and webhook_attempt (README "Webhooks"): endpoints,
 * the outbox of deliveries (the id of each is the idempotency id receivers deduplicate on), and
 * the log of every attempt. Deliveries are queued in the transaction that makes the event, so an
 * event committed is an event delivered, at least once; nothing is ever deleted.
 */
@Injectable()
export class WebhookStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async insert(tx: Tx, row: { principalId: string; memberId: string; url: string; description: string | null; events: WebhookEvent[]; feed: { idx: string; id: string } }): Promise<WebhookRow> {
    const [{ id }] = await tx.query<{ id: string }>(
      `INSERT INTO webhook (principal_id, member_id, url, description, events, created_at, created_by, feed_idx, feed_id, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $6) RETURNING id`,
      [row.principalId, row.memberId, row.url, row.description, row.events, this.clock.now(), tx.actor.principalId, row.feed.idx, row.feed.id],
    );
    return (await this.get(id, tx.em))!;
  }

  async get(id: string, runner: Runner = this.dataSource, lock = false): Promise<WebhookRow | undefined> {
    const rows = (await runner.query(`SELECT ${WEBHOOK_COLUMNS} FROM webhook w WHERE w.id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id])) as WebhookRow[];
    return rows[0];
  }

  /** Every webhook, or those of one member, or of one principal; oldest first. */
  async list(filter: { memberId?: string; principalId?: string }): Promise<WebhookRow[]> {
    return (await this.dataSource.query(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhook w
        WHERE ($1::uuid IS NULL OR w.member_id = $1) AND ($2::uuid IS NULL OR w.principal_id = $2)
        ORDER BY w.created_at, w.id`,
      [filter.memberId ?? null, filter.principalId ?? null],
    )) as WebhookRow[];
  }

  /** Out of service; a lease held on it ends (the holder's next check finds it gone). */
  async disable(runner: Runner, id: string, reason: string, by: string | null): Promise<void> {
    await runner.query(
      `UPDATE webhook SET disabled_at = $2, disabled_reason = $3, disabled_by = $4, leased_until = NULL, lease_token = NULL WHERE id = $1`,
      [id, this.clock.now(), reason, by],
    );
  }

  /** Whether any webhook exists (a process with none does not wake for every change). */
  async any(): Promise<boolean> {
    const [row] = (await this.dataSource.query(`SELECT EXISTS (SELECT 1 FROM webhook) AS any`)) as { any: boolean }[];
    return row.any;
  }

  /** Back in service: failures forgotten, the queue (kept while disabled) sent from now on. */
  async enable(tx: Tx, id: string): Promise<void> {
    await tx.query(
      `UPDATE webhook SET disabled_at = NULL, disabled_reason = NULL, disabled_by = NULL, consecutive_failures = 0, next_attempt_at = $2 WHERE id = $1`,
      [id, this.clock.now()],
    );
  }

  /** The delivery log, newest first. */
  async deliveries(webhookId: string, first: number, beforeSeq?: string): Promise<DeliveryRow[]> {
    return (await this.dataSource.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE webhook_id = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
      [webhookId, beforeSeq ?? null, first],
    )) as DeliveryRow[];
  }

  async attempts(deliveryIds: readonly string[]): Promise<{ delivery_id: string; attempt: number; at: Date; status: number | null; error: string | null; duration_ms: number }[]> {
    return (await this.dataSource.query(
      `SELECT delivery_id, attempt, at, status, error, duration_ms FROM webhook_attempt WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt`,
      [deliveryIds],
    )) as { delivery_id: string; attempt: number; at: Date; status: number | null; error: string | null; duration_ms: number }[];
  }

  /**
   * Queues notifications for every webhook of their members that takes NOTIFICATION events, in the
   * transaction that makes them (a disabled webhook's queue is kept for when it is enabled again).
   */
  async enqueueNotifications(tx: Tx, rows: { id: string; member_id: string; indicator_id: string | null; kind: string; message: string; created_at: Date }[]): Promise<void> {
    if (rows.length === 0) return;
    const queued = await tx.query<{ id: string }>(
      `INSERT INTO webhook_delivery (webhook_id, event_type, event, created_at)
       SELECT w.id, 'NOTIFICATION', n.event, $3 FROM webhook w
         JOIN unnest($1::uuid[], $2::jsonb[]) AS n(member_id, event) ON n.member_id = w.member_id
        WHERE 'NOTIFICATION' = ANY (w.events)
       RETURNING id`,
      [
        rows.map((r) => r.member_id),
        rows.map((r) => JSON.stringify({ id: r.id, kind: r.kind, message: r.message, indicatorId: r.indicator_id, createdAt: r.created_at.toISOString() })),
        this.clock.now(),
      ],
    );
    if (queued.length > 0) await tx.query(`SELECT pg_notify('${WEBHOOKS_CHANNEL}', '')`);
  }

  /** Webhooks that take CHANGE events and are in service (their feed position is advanced by the dispatcher). */
  async feeding(): Promise<string[]> {
    const rows = (await this.dataSource.query(`SELECT id FROM webhook WHERE disabled_at IS NULL AND 'CHANGE' = ANY (events) ORDER BY id`)) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Locks one feeding webhook for its enqueue, or nothing when another process holds it. */
  async lockFeeding(em: EntityManager, id: string): Promise<WebhookRow | undefined> {
    const rows = (await em.query(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhook w WHERE w.id = $1 AND w.disabled_at IS NULL FOR UPDATE SKIP LOCKED`,
      [id],
    )) as WebhookRow[];
    return rows[0];
  }

  /** Queues change events and moves the webhook's feed position past them, in one transaction. */
  async enqueueChanges(em: EntityManager, id: string, events: Record<string, unknown>[], position: { idx: string; id: string }): Promise<void> {
    if (events.length > 0) {
      await em.query(
        `INSERT INTO webhook_delivery (webhook_id, event_type, event, created_at)
         SELECT $1, 'CHANGE', e.event, $3 FROM unnest($2::jsonb[]) WITH ORDINALITY AS e(event, n) ORDER BY e.n`,
        [id, events.map((e) => JSON.stringify(e)), this.clock.now()],
      );
    }
    await em.query(`UPDATE webhook SET feed_idx = $2, feed_id = $3 WHERE id = $1`, [id, position.idx, position.id]);
  }

  /**
   * Leases up to `limit` webhooks that are in service, due, have something queued and are not
   * leased by another process: each is then sent by this process alone until the lease ends.
   */
  async lease(limit: number, leaseMs: number, exclude: string[]): Promise<(WebhookRow & { lease_token: string })[]> {
    const now = this.clock.now();
    const leased = updatedRows<{ id: string; lease_token: string }>(await this.dataSource.query(
      `UPDATE webhook SET leased_until = $2, lease_token = gen_random_uuid() WHERE id IN (
         SELECT w.id FROM webhook w
          WHERE w.disabled_at IS NULL AND w.next_attempt_at <= $1 AND (w.leased_until IS NULL OR w.leased_until < $1) AND w.id <> ALL ($4::uuid[])
            AND EXISTS (SELECT 1 FROM webhook_delivery d WHERE d.webhook_id = w.id AND d.delivered_at IS NULL)
          ORDER BY w.next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id, lease_token`,
      [now, new Date(now.getTime() + leaseMs), limit, exclude],
    ));
    if (leased.length === 0) return [];
    const tokens = new Map(leased.map((l) => [l.id, l.lease_token]));
    const rows = (await this.dataSource.query(`SELECT ${WEBHOOK_COLUMNS} FROM webhook w WHERE w.id = ANY($1::uuid[])`, [leased.map((l) => l.id)])) as WebhookRow[];
    return rows.map((r) => ({ ...r, lease_token: tokens.get(r.id)! }));
  }

  /** The lease is still this holder's (not expired, not ended by a disable or another process). */
  async stillLeased(id: string, token: string): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `SELECT 1 FROM webhook WHERE id = $1 AND lease_token = $2 AND disabled_at IS NULL AND leased_until > $3`,
      [id, token, this.clock.now()],
    )) as unknown[];
    return rows.length > 0;
  }

  /** The oldest undelivered deliveries of a webhook, in queue order. */
  async due(webhookId: string, limit: number): Promise<DeliveryRow[]> {
    return (await this.dataSource.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_delivery WHERE webhook_id = $1 AND delivered_at IS NULL ORDER BY seq LIMIT $2`,
      [webhookId, limit],
    )) as DeliveryRow[];
  }

  /**
   * Records one attempt; on success the delivery is done and the failure count reset. Returns the
   * webhook's consecutive failures after it.
   */
  async recordAttempt(em: EntityManager, delivery: DeliveryRow, token: string, outcome: AttemptOutcome, ok: boolean, retryAt: Date | null): Promise<number | null> {
    const now = this.clock.now();
    // Only while the lease is this holder's, and never over a delivery already done.
    const [counted] = updatedRows<{ attempts: number }>(await em.query(
      `UPDATE webhook_delivery d SET attempts = d.attempts + 1, last_attempt_at = $2, last_status = $3, last_error = $4,
              delivered_at = CASE WHEN $5 THEN $2::timestamptz END
        WHERE d.id = $1 AND d.delivered_at IS NULL
          AND EXISTS (SELECT 1 FROM webhook w WHERE w.id = d.webhook_id AND w.lease_token = $6)
        RETURNING d.attempts`,
      [delivery.id, now, outcome.status, outcome.error, ok, token],
    ));
    if (!counted) return null;
    await em.query(`INSERT INTO webhook_attempt (delivery_id, attempt, at, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)`, [
      delivery.id,
      counted.attempts,
      now,
      outcome.status,
      outcome.error,
      outcome.durationMs,
    ]);
    const [row] = updatedRows<{ consecutive_failures: number }>(await em.query(
      ok
        ? `UPDATE webhook SET consecutive_failures = 0 WHERE id = $1 RETURNING consecutive_failures`
        : `UPDATE webhook SET consecutive_failures = consecutive_failures + 1, next_attempt_at = $2 WHERE id = $1 RETURNING consecutive_failures`,
      ok ? [delivery.webhook_id] : [delivery.webhook_id, retryAt],
    ));
    return row.consecutive_failures;
  }

  async release(id: string, token: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook SET leased_until = NULL, lease_token = NULL WHERE id = $1 AND lease_token = $2`, [id, token]);
  }

  /** A webhook whose principal may not receive now (disabled, suspended): looked at again later. */
  async postpone(id: string, token: string, until: Date): Promise<void> {
    await this.dataSource.query(`UPDATE webhook SET leased_until = NULL, lease_token = NULL, next_attempt_at = $3 WHERE id = $1 AND lease_token = $2`, [id, token, until]);
  }
}
