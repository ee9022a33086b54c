import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import type { Caller } from '../../common/caller.js';
import { Notifications } from '../../common/notifications.js';
import { CHANGES_CHANNEL, type FeedPosition } from '../indicators/indicator.store.js';
import { type ChangeRow, ChangesService } from './changes.service.js';

/**
 * Live changes for `indicatorChanged`: the process's LISTEN connection (Notifications) wakes its
 * subscribers on every committed change, from whichever process made it; each subscriber then
 * reads the feed past its own position with its own visibility, so it gets exactly what
 * `changes` would give it, in the same order, nothing skipped.
 */
@Injectable()
export class ChangeStream implements OnApplicationShutdown {
  private readonly waiters = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly changes: ChangesService,
    notifications: Notifications,
  ) {
    notifications.on(CHANGES_CHANNEL, () => this.wakeAll());
    // After a lost connection every subscriber re-reads the feed past its position: nothing is lost.
    notifications.onState(() => this.wakeAll());
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    this.wakeAll();
    this.waiters.clear();
  }

  /**
   * The caller's changes from now on, as they commit. Before each delivery the caller's standing
   * is read again (`standing`): a revoked key, a disabled principal or a suspended member ends the
   * subscription with UNAUTHENTICATED, and role changes apply at once.
   */
  async *subscribe(caller: Caller, standing: () => Promise<Caller | null>): AsyncGenerator<ChangeRow> {
    let after: FeedPosition = await this.changes.latestPosition();
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
            after = { idx: row.idx, id: row.indicator_id };
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
