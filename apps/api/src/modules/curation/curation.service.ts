import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Caller } from '../../common/caller.js';
import { decodeCursor, pageSize } from '../../common/paging.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import { LOGGER } from '../../common/tokens.js';
import { optionalText, text, uuid } from '../../common/validate.js';
import { Transactions, type Tx } from '../audit/transactions.js';
import { NotificationsService } from '../disputes/notifications.service.js';
import type { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import type { IndicatorView } from '../indicators/indicator.rows.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import type { ReviewDecision } from './dto/curation.types.js';

/** Items in one reviewIndicators call. */
export const MAX_REVIEW_ITEMS = 1000;

export interface Expectation {
  expectedStatus?: IndicatorStatus | null;
  expectedVersion?: number | null;
}

export interface ReviewRequest extends Expectation {
  id: string;
  decision: ReviewDecision;
  note?: string | null;
}

export type ReviewItemResult = { id: string; ok: true; indicator: IndicatorView } | { id: string; ok: false; code: string; error: string };

/**
 * Curators' decisions (SPEC 3, README "Indicator states"). Every decision is one transaction:
 * the store locks the indicator, checks the expectation (CONFLICT) and the state machine
 * (BAD_USER_INPUT naming the current status), and writes the statements' new state, the feed, the
 * curation row and the audit event together; a refusal rolls everything back.
 */
@Injectable()
export class CurationService {
  constructor(
    private readonly transactions: Transactions,
    private readonly store: IndicatorStore,
    private readonly notifications: NotificationsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  review(caller: Caller, request: ReviewRequest): Promise<IndicatorView> {
    const indicatorId = uuid('id', request.id);
    const note = optionalText('note', request.note);
    return this.transactions.run(caller, async (tx) =>
      (
        await this.store.transition(tx, {
          indicatorId,
          action: request.decision,
          note,
          expectedStatus: request.expectedStatus,
          expectedVersion: request.expectedVersion,
        })
      ).after,
    );
  }

  /** REVOKE, then tell every member that reported ACTIONED on it, in the same transaction. */
  revoke(caller: Caller, id: string, reason: string, expectation: Expectation = {}): Promise<IndicatorView> {
    const indicatorId = uuid('id', id);
    const why = text('reason', reason);
    return this.transactions.run(caller, (tx) => this.revokeIn(tx, indicatorId, why, expectation));
  }

  /** The revocation inside a caller's transaction (an exclusion added with revokeMatching). */
  async revokeIn(tx: Tx, indicatorId: string, why: string, expectation: Expectation = {}): Promise<IndicatorView> {
    const { after } = await this.store.transition(tx, { indicatorId, action: 'REVOKE', note: why, ...expectation });
    await this.notifications.notifyActioned(
      tx,
      after.id,
      'REVOKED',
      `indicator ${after.id} (${after.kind}, fingerprint ${after.fingerprint}) was revoked: ${why}. Reverse any action you took on it.`,
    );
    return after;
  }

  expire(caller: Caller, id: string, expectation: Expectation = {}): Promise<IndicatorView> {
    const indicatorId = uuid('id', id);
    return this.transactions.run(caller, async (tx) => (await this.store.transition(tx, { indicatorId, action: 'EXPIRE', ...expectation })).after);
  }

  /**
   * Bulk review: each item in its own transaction, in input order (so the same id twice sees the
   * first decision), one outcome per item; a refused item changes nothing and never fails the rest.
   */
  async reviewMany(caller: Caller, items: ReviewRequest[]): Promise<ReviewItemResult[]> {
    if (items.length > MAX_REVIEW_ITEMS) {
      throw CordonException.badInput('items', `at most ${MAX_REVIEW_ITEMS} items per call, got ${items.length}`);
    }
    const results: ReviewItemResult[] = [];
    for (const item of items) {
      try {
        results.push({ id: item.id, ok: true, indicator: await this.review(caller, item) });
      } catch (err) {
        if (err instanceof CordonException) {
          results.push({ id: item.id, ok: false, code: err.code, error: err.message });
        } else {
          this.logger.error({ err }, 'bulk review item failed');
          results.push({ id: item.id, ok: false, code: ErrorCode.INTERNAL_SERVER_ERROR, error: 'internal error; nothing changed for this item' });
        }
      }
    }
    return results;
  }

  /** Indicators with a statement waiting for a decision, oldest waiting first. */
  async queue(
    caller: Caller,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<{ rows: (IndicatorView & { since_us: string })[]; hasNextPage: boolean }> {
    return this.store.queue(caller, pageSize(first), after ? decodeCursor('queue-v2', after) : undefined);
  }
}
