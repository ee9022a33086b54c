import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { GraphQLError } from 'graphql';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { encodeCursor } from '../../common/paging.js';
import { LOGGER } from '../../common/tokens.js';
import { CHANGES_CHANNEL } from '../indicators/indicator-changes.js';
import { type ChangeRow, ChangesService } from './changes.service.js';

/**
 * Live changes for `indicatorChanged`: one LISTEN connection per API process wakes the process's
 * subscribers on every committed change, from whichever process made it; each subscriber then
 * reads the feed past its own position with its own visibility, so it gets exactly what
 * `changes` would give it, in the same order, nothing skipped.
 */
@Injectable()
export class ChangeStream implements OnModuleInit, OnApplicationShutdown {
  private client: PoolClient | undefined;
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  private reconnecting = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly changes: ChangesService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
  }

  /**
   * Takes a connection for LISTEN. If it breaks (a database restart, a failover, a terminated
   * backend) the process does not fall over: it takes another one, retrying every second, and
   * wakes every subscriber, which re-reads the feed past its position — nothing is lost.
   */
  private async listen(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: { connect(): Promise<PoolClient> } }).master;
    const client = await pool.connect();
    client.on('notification', () => this.wakeAll());
    client.on('error', (err: Error) => {
      // Once this client is given back (shutdown, or an earlier error) its errors are not ours.
      if (this.client !== client) return;
      this.client = undefined;
      client.release(err);
      if (this.stopped) return;
      this.logger.warn({ err }, 'change notifications connection lost: reconnecting');
      this.reconnect();
    });
    this.client = client;
    try {
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      if (this.client === client) {
        this.client = undefined;
        client.release(err as Error);
      }
      throw err;
    }
  }

  private reconnect(): void {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    const attempt = () => {
      if (this.stopped) return;
      this.listen().then(
        () => {
          this.reconnecting = false;
          this.wakeAll();
        },
        () => setTimeout(attempt, 1000).unref(),
      );
    };
    setTimeout(attempt, 100).unref();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    this.wakeAll();
    this.waiters.clear();
    if (client) {
      await client.query(`UNLISTEN ${CHANGES_CHANNEL}`).catch(() => undefined);
      client.release();
    }
  }

  /**
   * The caller's changes from now on, as they commit. Before each delivery the caller's standing
   * is read again (`standing`): a revoked key, a disabled principal or a suspended member ends the
   * subscription with UNAUTHENTICATED, and role changes apply at once.
   */
  async *subscribe(caller: Caller, standing: () => Promise<Caller | null>): AsyncGenerator<ChangeRow> {
    let after = await this.changes.latestCursor();
    let pending = false;
    let wake: (() => void) | undefined;
    const listener = () => {
      pending = true;
      wake?.();
    };
    this.waiters.add(listener);
    try {
      while (!this.stopped) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        if (this.stopped) break;
        pending = false;
        const current = await standing();
        if (!current) {
          throw new GraphQLError('authentication failed: send a valid bearer token signed by an active key', {
            extensions: { code: 'UNAUTHENTICATED' },
          });
        }
        caller = current;
        for (;;) {
          const { rows, hasNextPage } = await this.changes.page(caller, 500, after);
          for (const row of rows) {
            after = encodeCursor('changes', row.idx, row.indicator_id);
            yield row;
          }
          if (!hasNextPage) break;
        }
      }
    } finally {
      this.waiters.delete(listener);
    }
  }
}
