import { Injectable } from '@nestjs/common';
import type { Caller } from '../../common/caller.js';
import { decodeCursor, encodeCursor, pageSize } from '../../common/paging.js';
import { type ChangeRow, type FeedPosition, IndicatorStore } from '../indicators/indicator.store.js';

export type { ChangeRow };

const CURSOR = 'changes';

export function changeCursor(row: ChangeRow | FeedPosition): string {
  return 'indicator_id' in row ? encodeCursor(CURSOR, row.idx, row.indicator_id) : encodeCursor(CURSOR, row.idx, row.id);
}

/**
 * The change feed (SPEC 7 `changes`): every change the caller can see of an indicator it can see,
 * ordered by the audit index of its transaction — gapless and committed in order, so a cursor
 * never skips a change and stays valid across restarts. Each entry and its status come from the
 * statements the caller may see (IndicatorStore.feed): a change of a statement hidden from it is
 * no entry at all. Nothing is ever removed: a revocation a year old is still there.
 */
@Injectable()
export class ChangesService {
  constructor(private readonly store: IndicatorStore) {}

  async page(caller: Caller, first: number | null | undefined, after: string | FeedPosition | null | undefined): Promise<{ rows: ChangeRow[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    let position: FeedPosition | undefined;
    if (typeof after === 'string') {
      const cursor = decodeCursor(CURSOR, after);
      position = { idx: cursor.micros, id: cursor.id };
    } else if (after) position = after;
    return this.store.feed(caller, size, position);
  }

  /** The position after every change committed so far (for a subscriber that starts now). */
  latestPosition(): Promise<FeedPosition> {
    return this.store.latestPosition();
  }
}
