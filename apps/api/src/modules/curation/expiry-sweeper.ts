import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../../common/tokens.js';
import { Transactions } from '../audit/transactions.js';
import { IndicatorStore } from '../indicators/indicator.store.js';

/** How often every process tries to sweep (one of them does, under the advisory lock). */
export const SWEEP_INTERVAL_MS = 60_000;
/** Statements expired per transaction (and per audit event); a sweep repeats until none are left. */
export const SWEEP_BATCH = 5000;
const SWEEP_LOCK = 7_263_031;

/**
 * The clock's part of the state machine: a statement whose `exp` has passed and that is still
 * PENDING, ACTIVE or DISPUTED becomes EXPIRED (reads count it so from the moment its exp passes;
 * the sweep records it in the feed). Runs once at start and every minute;
 * `pg_try_advisory_xact_lock` lets one process sweep while the others skip. Each batch is one
 * transaction: the statements' status, their feed rows and one audit event
 * `indicator.expire_sweep` listing the statement and indicator ids. Rows a curator holds locked
 * are skipped and caught by the next sweep.
 */
@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  /** Sweeps in this process run one after another. */
  private last: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private stopped = false;

  constructor(
    private readonly transactions: Transactions,
    private readonly store: IndicatorStore,
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
   * Expires what is due now and returns the ids of the indicators whose statements this process expired, sorted (empty when another
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
      expired.push(...batch.indicators);
      if (batch.statements < SWEEP_BATCH || this.stopped) break;
    }
    const indicators = [...new Set(expired)].sort();
    if (indicators.length > 0) this.logger.info({ indicators: indicators.length }, 'expiry sweep: statements expired');
    return indicators;
  }

  /** One transaction; null when another process is sweeping. Returns the indicators whose statements it expired. */
  private sweepBatch(): Promise<{ statements: number; indicators: string[] } | null> {
    return this.transactions.run(null, async (tx) => {
      const [{ locked }] = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK]);
      if (!locked) return null;
      const rows = await this.store.sweepExpired(tx, SWEEP_BATCH);
      return { statements: rows.length, indicators: [...new Set(rows.map((r) => r.indicatorId))] };
    });
  }
}
