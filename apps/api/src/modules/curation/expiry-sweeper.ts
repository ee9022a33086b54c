import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { LOGGER } from '../../common/tokens.js';
import { AuditService } from '../audit/audit.service.js';
import { recomputeIndicators } from '../indicators/indicator-aggregates.js';
import { recordChanges } from '../indicators/indicator-changes.js';
import { TRANSITIONS } from '../indicators/indicator-status.js';

/** How often every process tries to sweep (one of them does, under the advisory lock). */
export const SWEEP_INTERVAL_MS = 60_000;
/** Indicators expired per transaction (and per audit event); a sweep repeats until none are left. */
export const SWEEP_BATCH = 5000;
const SWEEP_LOCK = 7_263_031;
const SWEEP_NOTE = 'no supporting statement left: every statement’s exp has passed';

/**
 * The clock's part of the state machine: an indicator whose last supporting statement has
 * expired (`supported_until` passed, indicator-aggregates.ts) and that is still PENDING, ACTIVE
 * or DISPUTED becomes EXPIRED. Runs once at start and every minute; `pg_try_advisory_xact_lock`
 * lets one process sweep while the others skip. Each batch is one transaction: the status
 * change, a curation row per indicator (action EXPIRE, no actor) and one audit event
 * `indicator.expire_sweep` listing the indicator ids. Rows a curator holds locked are skipped and
 * caught by the next sweep.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  /** Sweeps in this process run one after another. */
  private last: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), SWEEP_INTERVAL_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.last.catch(() => undefined);
  }

  /**
   * Expires what is due now and returns the ids this process expired, sorted (empty when another
   * process holds the sweep lock). Waits for a sweep already running in this process.
   */
  sweep(): Promise<string[]> {
    this.pending++;
    const run = this.last
      .catch(() => undefined)
      .then(() => this.sweepAll())
      .finally(() => this.pending--);
    this.last = run;
    return run;
  }

  private tick(): void {
    // A background sweep waits for nothing: skip the tick while one is still queued or running.
    if (this.stopped || this.pending > 0) return;
    this.sweep().catch((err: unknown) => this.logger.error({ err }, 'expiry sweep failed'));
  }

  private async sweepAll(): Promise<string[]> {
    const expired: string[] = [];
    for (;;) {
      const batch = await this.sweepBatch();
      if (batch === null) break;
      expired.push(...batch);
      if (batch.length < SWEEP_BATCH || this.stopped) break;
    }
    if (expired.length > 0) this.logger.info({ expired: expired.length }, 'expiry sweep: indicators expired');
    return expired.sort();
  }

  /** One transaction; null when another process is sweeping. */
  private sweepBatch(): Promise<string[] | null> {
    const rule = TRANSITIONS.EXPIRE;
    return this.dataSource.transaction(async (em) => {
      const [{ locked }] = (await em.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK])) as { locked: boolean }[];
      if (!locked) return null;
      const rows = (await em.query(
        `WITH due AS (
           SELECT i.id, i.status FROM indicator i
            WHERE i.status = ANY($1::text[]) AND i.supported_until <= now()
            ORDER BY i.supported_until, i.id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
         ), changed AS (
           UPDATE indicator i SET status = $2, status_before_dispute = NULL, version = i.version + 1, updated_at = now()
             FROM due WHERE i.id = due.id
           RETURNING i.id, due.status AS from_status
         )
         INSERT INTO curation (indicator_id, action, from_status, to_status, note, actor_principal_id)
         SELECT id, 'EXPIRE', from_status, $2, $4, NULL FROM changed
         RETURNING indicator_id`,
        [rule.from, rule.to, SWEEP_BATCH, SWEEP_NOTE],
      )) as { indicator_id: string }[];
      if (rows.length === 0) return [];
      const ids = rows.map((r) => r.indicator_id).sort();
      // No statement supports them any more: attestation count and confidence follow (both 0).
      await recomputeIndicators(em, ids);
      const event = await this.audit.record(em, { action: 'indicator.expire_sweep', actor: null, subjectId: null, data: { indicatorIds: ids } });
      await recordChanges(em, event.index, ids.map((id) => ({ indicatorId: id, change: 'STATUS' as const, status: 'EXPIRED' })));
      return ids;
    });
  }
}
