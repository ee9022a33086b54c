import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { WEBHOOK_TYP } from '@app/statements';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { Notifications } from '../../common/notifications.js';
import { CONFIG, LOGGER } from '../../common/tokens.js';
import { Transactions } from '../audit/transactions.js';
import { AuthService } from '../auth/auth.service.js';
import { NotificationsService } from '../disputes/notifications.service.js';
import { ExchangeKeyService } from '../exchange-key/exchange-key.service.js';
import { CHANGES_CHANNEL, IndicatorStore } from '../indicators/indicator.store.js';
import { send } from './webhook-sender.js';
import { type DeliveryRow, WEBHOOKS_CHANNEL, type WebhookRow, WebhookStore } from './webhook.store.js';

/** The JWS `typ` of a delivery (verified by receivers with verifyWebhookDelivery). */
export { WEBHOOK_TYP };
/** Webhooks sent at once by one process, and deliveries per webhook per lease. */
const PARALLEL = 8;
const PER_LEASE = 25;
/** Change events queued per webhook per round. */
const FEED_PAGE = 500;
const FEED_PAGES_PER_ROUND = 4;
/** A burst of wake-ups (a NOTIFY per commit) becomes one round. */
const DEBOUNCE_MS = 50;

/**
 * The webhook dispatcher (README "Webhooks"), one per API process, any number of processes:
 * 1. Queue: for each webhook that takes CHANGE events, the change feed past its position as its
 *    principal sees it now, queued and the position moved in one transaction (the webhook row
 *    locked, SKIP LOCKED: one process at a time). Notifications are queued by the transaction
 *    that makes them (WebhookStore.enqueueNotifications).
 * 2. Send: webhooks in service that are due are leased (one process each), and their queue sent
 *    oldest first, each delivery a JWS signed by the exchange key, POSTed with its idempotency id;
 *    the first failure stops the webhook's round and schedules a retry with exponential backoff.
 *    After CORDON_WEBHOOK_DISABLE_AFTER consecutive failures the webhook is disabled (audited, its
 *    member notified); its queue is kept and sent once an ADMIN enables it again.
 * A round runs on every change-feed or webhook NOTIFY (debounced), after a lost LISTEN
 * connection, and every CORDON_WEBHOOK_POLL_MS in any case (retries fall due without a NOTIFY).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private scheduled?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Set when the last round found no webhook at all: change NOTIFYs then wake nothing. */
  private none = false;
  /** Webhooks this process is sending, each on its own (a slow receiver holds up only itself). */
  private readonly sending = new Map<string, Promise<void>>();

  constructor(
    private readonly store: WebhookStore,
    private readonly indicators: IndicatorStore,
    private readonly auth: AuthService,
    private readonly exchangeKey: ExchangeKeyService,
    private readonly notifications: NotificationsService,
    private readonly transactions: Transactions,
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: CordonConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    listen: Notifications,
  ) {
    listen.on(CHANGES_CHANNEL, () => {
      if (!this.none) this.wake();
    });
    listen.on(WEBHOOKS_CHANNEL, () => this.wake());
    listen.onState(() => this.wake());
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.wake(), this.config.webhooks.pollMs);
    this.timer.unref();
    this.wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.scheduled);
    await this.running;
    await Promise.all(this.sending.values());
  }

  /** Runs a round soon (one at a time; a wake-up during a round runs another after it). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = setTimeout(() => {
      this.scheduled = undefined;
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
    }, DEBOUNCE_MS);
    this.scheduled.unref();
  }

  /**
   * One round: queue the feed of every feeding webhook, then start sending the due ones this
   * process is not sending yet (at most PARALLEL at once). Sends run on their own: the round does
   * not wait for them, so queueing is never held up by a receiver.
   */
  private async round(): Promise<void> {
    try {
      this.none = !(await this.store.any());
      if (this.none) return;
      for (const id of await this.store.feeding()) {
        if (this.stopped) return;
        await this.queueChanges(id);
      }
      if (this.stopped || this.sending.size >= PARALLEL) return;
      const leased = await this.store.lease(PARALLEL - this.sending.size, this.leaseMs(), [...this.sending.keys()]);
      for (const webhook of leased) {
        const task = this.sendSome(webhook)
          .catch((err: unknown) => this.logger.error({ err, webhookId: webhook.id }, 'webhook send failed; retried on a later round'))
          .finally(() => {
            this.sending.delete(webhook.id);
            this.wake();
          });
        this.sending.set(webhook.id, task);
      }
    } catch (err) {
      if (!this.stopped) this.logger.error({ err }, 'webhook round failed; retried on the next');
    }
  }

  private leaseMs(): number {
    return Math.max(60_000, this.config.webhooks.timeoutMs * (PER_LEASE + 1));
  }

  /** Queues the changes past the webhook's position, as its principal sees them now. */
  private async queueChanges(id: string): Promise<void> {
    const current = await this.store.get(id);
    if (!current || current.disabled_at) return;
    // Read before the transaction (another connection); a principal that may not read now
    // (disabled, suspended, no key) keeps its position.
    const viewer = await this.auth.principalStanding(current.principal_id);
    if (!viewer) return;
    // Everything inside runs on the transaction's own connection: a dispatcher never holds one
    // connection while waiting for another (a small pool would deadlock).
    await this.dataSource.transaction(async (em) => {
      const webhook = await this.store.lockFeeding(em, id);
      if (!webhook || webhook.principal_id !== current.principal_id) return;
      let position = { idx: webhook.feed_idx, id: webhook.feed_id };
      for (let page = 0; page < FEED_PAGES_PER_ROUND; page++) {
        const { rows, hasNextPage } = await this.indicators.feed(viewer, FEED_PAGE, position, em);
        if (rows.length === 0) break;
        const views = new Map((await this.indicators.views(viewer, [...new Set(rows.map((r) => r.indicator_id))], em)).map((v) => [v.id, v]));
        const events = rows.map((r) => {
          const v = views.get(r.indicator_id);
          return {
            auditIndex: Number(r.idx),
            change: r.change,
            status: r.status,
            at: r.at.toISOString(),
            indicatorId: r.indicator_id,
            indicator: v && { id: v.id, kind: v.kind, network: v.network === '' ? null : v.network, value: v.value, fingerprint: v.fingerprint, status: v.status, confidence: v.confidence, category: v.category, tlp: v.tlp },
          };
        });
        const last = rows[rows.length - 1];
        position = { idx: last.idx, id: last.indicator_id };
        await this.store.enqueueChanges(em, id, events, position);
        if (!hasNextPage) break;
        if (page === FEED_PAGES_PER_ROUND - 1) this.again = true;
      }
    });
  }

  /** Sends a leased webhook's queue, oldest first, until it is empty, a failure, or the lease's share is used. */
  private async sendSome(webhook: WebhookRow & { lease_token: string }): Promise<void> {
    const token = webhook.lease_token;
    const started = Date.now();
    try {
      const viewer = await this.auth.principalStanding(webhook.principal_id);
      if (!viewer) {
        // Nothing goes to a principal that may not read now; looked at again later.
        await this.store.postpone(webhook.id, token, new Date(this.clock.now().getTime() + this.config.webhooks.pollMs));
        return;
      }
      let failures = webhook.consecutive_failures;
      for (const delivery of await this.store.due(webhook.id, PER_LEASE)) {
        // Within the lease's first half, and only while it is still ours (an ADMIN's disable, an
        // expiry and another process's lease all end it).
        if (this.stopped || Date.now() - started > this.leaseMs() / 2 || !(await this.store.stillLeased(webhook.id, token))) return;
        const ok = await this.attempt(webhook, token, delivery, failures);
        if (ok === null) return; // disabled, or the lease lost
        if (!ok.delivered) return;
        failures = 0;
      }
    } finally {
      await this.store.release(webhook.id, token).catch(() => undefined);
    }
  }

  private async attempt(webhook: WebhookRow, token: string, delivery: DeliveryRow, failuresBefore: number): Promise<{ delivered: boolean } | null> {
    const attempt = delivery.attempts + 1;
    const jws = await this.exchangeKey.sign(
      {
        iss: this.config.audience,
        aud: webhook.id,
        jti: delivery.id,
        iat: this.clock.epochSeconds(),
        webhookId: webhook.id,
        principalId: webhook.principal_id,
        memberId: webhook.member_id,
        attempt,
        queuedAt: delivery.created_at.toISOString(),
        type: delivery.event_type,
        event: delivery.event,
      },
      WEBHOOK_TYP,
    );
    const outcome = await send(webhook.url, jws, {
      timeoutMs: this.config.webhooks.timeoutMs,
      ca: this.config.webhooks.ca,
      headers: {
        'content-type': 'application/jose',
        'user-agent': 'cordon-webhooks',
        'cordon-delivery-id': delivery.id,
        'cordon-webhook-id': webhook.id,
        'cordon-event': delivery.event_type,
        'cordon-attempt': String(attempt),
      },
    }, (err) => this.logger.info({ webhookId: webhook.id, deliveryId: delivery.id, err: err.message }, 'webhook delivery failed'));
    const { retryBaseMs, retryMaxMs, disableAfter } = this.config.webhooks;
    const delay = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(30, failuresBefore));
    // Equal jitter: half the delay, plus up to the other half at random (receivers coming back
    // are not hit by every process at once).
    const retryAt = new Date(this.clock.now().getTime() + delay / 2 + Math.random() * (delay / 2));
    const result = await this.transactions.run(null, async (tx): Promise<'recorded' | 'lost' | 'disabled'> => {
      const failures = await this.store.recordAttempt(tx.em, delivery, token, outcome, outcome.ok, outcome.ok ? null : retryAt);
      if (failures === null) return 'lost'; // the lease ended meanwhile: its new holder goes on
      if (outcome.ok || failures < disableAfter) return 'recorded';
      const reason = `${failures} consecutive failed deliveries; the last: ${outcome.error}`;
      await this.store.disable(tx.em, webhook.id, reason, null);
      await tx.record({
        action: 'webhook.disable',
        actor: null,
        subjectId: webhook.id,
        subjectMemberId: webhook.member_id,
        data: { webhookId: webhook.id, reason, automatic: true },
      });
      await this.notifications.notifyMember(
        tx,
        webhook.member_id,
        'WEBHOOK_DISABLED',
        `webhook ${webhook.id} was disabled after ${failures} consecutive failed deliveries (the last: ${outcome.error}); its deliveries are kept and sent once an administrator enables it again`,
      );
      return 'disabled';
    });
    if (result === 'disabled') this.logger.warn({ webhookId: webhook.id }, 'webhook disabled after repeated failures');
    if (result !== 'recorded') return null;
    return { delivered: outcome.ok };
  }
}
