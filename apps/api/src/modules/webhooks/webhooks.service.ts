import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { type Caller, hasRole } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Role } from '../../common/roles.js';
import { CONFIG } from '../../common/tokens.js';
import { optionalText, text, uuid } from '../../common/validate.js';
import { Transactions } from '../audit/transactions.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import { PrincipalsService } from '../principals/principals.service.js';
import { type DeliveryRow, WEBHOOKS_CHANNEL, type WebhookEvent, type WebhookRow, WebhookStore } from './webhook.store.js';

export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['NOTIFICATION', 'CHANGE'];
const MAX_URL = 2000;

/**
 * Registering and curating webhooks (README "Webhooks"): an ADMIN registers an endpoint for a
 * member's principal, whose view the deliveries carry; every change is audited. A principal reads
 * its own webhooks and their delivery log; an ADMIN reads every one.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly store: WebhookStore,
    private readonly transactions: Transactions,
    private readonly indicators: IndicatorStore,
    private readonly principals: PrincipalsService,
    @Inject(CONFIG) private readonly config: CordonConfig,
  ) {}

  async register(caller: Caller, input: { principalId: string; url: string; description?: string | null; events?: WebhookEvent[] | null }): Promise<WebhookRow> {
    const principalId = uuid('input.principalId', input.principalId);
    const url = this.endpoint(input.url);
    const description = optionalText('input.description', input.description, 500);
    const events = input.events && input.events.length > 0 ? [...new Set(input.events)] : [...WEBHOOK_EVENTS];
    const [principal] = await this.principals.loadMany([principalId]);
    if (!principal) throw CordonException.notFound('principal', 'input.principalId');
    // From now on: the feed position after everything committed so far.
    const feed = await this.indicators.latestPosition();
    return this.transactions.run(caller, async (tx) => {
      const row = await this.store.insert(tx, { principalId, memberId: principal.memberId, url, description, events, feed });
      await tx.record({
        action: 'webhook.register',
        subjectId: row.id,
        subjectMemberId: row.member_id,
        // The URL itself may carry the receiver's secret path: its host and SHA-256 only.
        data: { webhookId: row.id, principalId, host: new URL(url).host, urlSha256: sha256(url), events },
      });
      // Every process's dispatcher looks again (one that had no webhook ignores change NOTIFYs).
      await tx.query(`SELECT pg_notify('${WEBHOOKS_CHANNEL}', '')`);
      return row;
    });
  }

  async disable(caller: Caller, id: string, reason: string): Promise<WebhookRow> {
    const webhookId = uuid('id', id);
    const why = text('reason', reason);
    return this.transactions.run(caller, async (tx) => {
      const before = await this.store.get(webhookId, tx.em, true);
      if (!before) throw CordonException.notFound('webhook', 'id');
      if (before.disabled_at) throw CordonException.badInput('id', `the webhook is already disabled (${before.disabled_reason})`);
      await this.store.disable(tx.em, webhookId, why, caller.principalId);
      await tx.record({ action: 'webhook.disable', subjectId: webhookId, subjectMemberId: before.member_id, data: { webhookId, reason: why, automatic: false } });
      return (await this.store.get(webhookId, tx.em))!;
    });
  }

  async enable(caller: Caller, id: string): Promise<WebhookRow> {
    const webhookId = uuid('id', id);
    return this.transactions.run(caller, async (tx) => {
      const before = await this.store.get(webhookId, tx.em, true);
      if (!before) throw CordonException.notFound('webhook', 'id');
      if (!before.disabled_at) throw CordonException.badInput('id', 'the webhook is in service already');
      await this.store.enable(tx, webhookId);
      await tx.query(`SELECT pg_notify('${WEBHOOKS_CHANNEL}', '')`);
      await tx.record({ action: 'webhook.enable', subjectId: webhookId, subjectMemberId: before.member_id, data: { webhookId, pending: before.pending } });
      return (await this.store.get(webhookId, tx.em))!;
    });
  }

  /** ADMIN: every webhook (or one member's); anyone else: its own principal's. */
  async list(caller: Caller, memberId?: string | null): Promise<WebhookRow[]> {
    if (hasRole(caller, Role.ADMIN)) return this.store.list({ memberId: memberId ? uuid('memberId', memberId) : undefined });
    return this.store.list({ principalId: caller.principalId });
  }

  /** One webhook the caller may read, or NOT_FOUND (the same for one that exists but is not its own). */
  async get(caller: Caller, id: string): Promise<WebhookRow> {
    const row = await this.store.get(uuid('id', id));
    if (!row || (!hasRole(caller, Role.ADMIN) && row.principal_id !== caller.principalId)) throw CordonException.notFound('webhook', 'id');
    return row;
  }

  deliveries(webhook: WebhookRow, first: number, before?: string): Promise<DeliveryRow[]> {
    return this.store.deliveries(webhook.id, first, before);
  }

  attempts(ids: readonly string[]) {
    return this.store.attempts(ids);
  }

  /** An absolute https URL without credentials or fragment (http only with CORDON_WEBHOOK_ALLOW_HTTP). */
  private endpoint(raw: string): string {
    const value = text('input.url', raw, MAX_URL);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw CordonException.badInput('input.url', 'is not an absolute URL (https://host/path)');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.config.webhooks.allowHttp)) {
      throw CordonException.badInput('input.url', `must be https:// (got ${url.protocol}//)${url.protocol === 'http:' ? '; http is accepted only with CORDON_WEBHOOK_ALLOW_HTTP=true, for development' : ''}`);
    }
    if (url.username || url.password) throw CordonException.badInput('input.url', 'must not carry a user name or password');
    if (url.hash) throw CordonException.badInput('input.url', 'must not have a #fragment');
    return url.href;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
