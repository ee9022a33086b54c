import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { decodeCursor, pageSize } from '../../common/paging.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import { LOGGER } from '../../common/tokens.js';
import { optionalText, text, uuid } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import type { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import type { IndicatorRow } from '../indicators/indicator.rows.js';
import { notifyActioned, transition } from '../indicators/indicator-status.js';
import { CurationRepository, type QueueRow } from './curation.repository.js';
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

export type ReviewItemResult = { id: string; ok: true; indicator: IndicatorRow } | { id: string; ok: false; code: string; error: string };

/**
 * Curators' decisions (SPEC 3, README "Indicator states"). Every decision is one transaction:
 * transition() locks the indicator, checks the expectation (CONFLICT) and the state machine
 * (BAD_USER_INPUT naming the current status), and writes the change, its curation row and its
 * audit event together; a refusal rolls everything back.
 */
@Injectable()
export class CurationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly repository: CurationRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  review(caller: Caller, request: ReviewRequest): Promise<IndicatorRow> {
    const indicatorId = uuid('id', request.id);
    const note = optionalText('note', request.note);
    return this.dataSource.transaction((em) =>
      transition(em, this.audit, {
        indicatorId,
        action: request.decision,
        caller,
        note,
        expectedStatus: request.expectedStatus,
        expectedVersion: request.expectedVersion,
      }),
    );
  }

  /** REVOKE, then tell every member that reported ACTIONED on it, in the same transaction. */
  revoke(caller: Caller, id: string, reason: string, expectation: Expectation = {}): Promise<IndicatorRow> {
    const indicatorId = uuid('id', id);
    const why = text('reason', reason);
    return this.dataSource.transaction(async (em) => {
      const row = await transition(em, this.audit, { indicatorId, action: 'REVOKE', caller, note: why, ...expectation });
      await notifyActioned(
        em,
        row.id,
        'REVOKED',
        `indicator ${row.id} (${row.kind}, fingerprint ${row.fingerprint}) was revoked: ${why}. Reverse any action you took on it.`,
      );
      return row;
    });
  }

  expire(caller: Caller, id: string, expectation: Expectation = {}): Promise<IndicatorRow> {
    const indicatorId = uuid('id', id);
    return this.dataSource.transaction((em) => transition(em, this.audit, { indicatorId, action: 'EXPIRE', caller, ...expectation }));
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

  /** PENDING indicators the caller may see, oldest first. */
  async queue(caller: Caller, first: number | null | undefined, after: string | null | undefined): Promise<{ rows: QueueRow[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    const rows = await this.repository.pending(caller, size, after ? decodeCursor('queue', after) : undefined);
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }
}
