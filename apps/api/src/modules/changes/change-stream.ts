import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { encodeCursor } from '../../common/paging.js';
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly changes: ChangesService,
  ) {}

  async onModuleInit(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: { connect(): Promise<PoolClient> } }).master;
    this.client = await pool.connect();
    this.client.on('notification', () => {
      for (const wake of [...this.waiters]) wake();
    });
    await this.client.query(`LISTEN ${CHANGES_CHANNEL}`);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const wake of [...this.waiters]) wake();
    this.waiters.clear();
    if (this.client) {
      await this.client.query(`UNLISTEN ${CHANGES_CHANNEL}`).catch(() => undefined);
      this.client.release();
      this.client = undefined;
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
      while (this.client) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
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
