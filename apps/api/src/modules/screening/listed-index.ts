import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { PrefixSet } from '@app/fingerprint-index';
import type { Logger } from 'pino';
import { Notifications } from '../../common/notifications.js';
import { CONFIG, LOGGER } from '../../common/tokens.js';
import { CHANGES_CHANNEL, IndicatorStore } from '../indicators/indicator.store.js';
import { MetricsService } from '../ops/metrics.service.js';

/** Listed fingerprints read per round trip while building. */
const PAGE = 100_000;
/** Wait before building again after a failed build. */
const RETRY_MS = 5000;

/**
 * The in-process index of listed fingerprints (issue 19, README "Screening in bulk"): every
 * fingerprint of an indicator that some viewer could match (a PENDING, ACTIVE or DISPUTED
 * statement), by its 8-byte prefix (libs/fingerprint-index). A screened key it does not hold
 * matches nothing for anyone and is answered without SQL; a key it may hold goes to the one
 * set-based lookup that decides match, visibility and every per-viewer field.
 *
 * The invariant — never a stale miss: `position` is a feed head (an audit index) such that every
 * change at or below it is in the set. A screening call reads the database's head in the same
 * statement as its lookup (`IndicatorStore.headSql`) and, when it is past `position`, catches up
 * (`ensure`) and looks again at the keys the set had refused. So a call that starts after a
 * commit sees it whatever became of the notification: the LISTEN connection only makes catching
 * up happen sooner, never decides correctness.
 *
 * Built in the background at start-up, page by page without holding a snapshot: the head is read
 * first, then every indicator listed at that head is in some page (the set only grows; a change
 * after the head is caught up from the feed). Until it is built, screening uses SQL for every key.
 */
@Injectable()
export class ListedIndex implements OnApplicationBootstrap, OnApplicationShutdown {
  private set: PrefixSet | null = null;
  private position = -1;
  private catching: Promise<void> | null = null;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  /** The last build's figures (for the bench and /metrics). */
  build?: { seconds: number; keys: number; bytes: number };

  constructor(
    private readonly store: IndicatorStore,
    notifications: Notifications,
    metrics: MetricsService,
    @Inject(CONFIG) private readonly config: CordonConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    metrics.gauge('cordon_screen_index_keys', 'listed fingerprints in this process’s screening index (0 while it is built)', () => this.set?.size ?? 0);
    metrics.gauge('cordon_screen_index_bytes', 'memory held by this process’s screening index', () => this.set?.bytes ?? 0);
    // Followed from the start (Notifications listens on the channels known when the module starts).
    if (config.screenIndex) {
      notifications.on(CHANGES_CHANNEL, () => this.poke());
      notifications.onState((connected) => {
        if (connected) this.poke();
      });
    }
    metrics.gauge('cordon_screen_index_ready', '1 once this process’s screening index is built (until then screening asks SQL for every key)', () => (this.set ? 1 : 0));
    metrics.gauge('cordon_screen_index_position', 'feed head (audit index) the screening index holds everything up to; -1 while it is built', () => (this.set ? this.position : -1));
  }

  onApplicationBootstrap(): void {
    if (this.config.screenIndex) this.start();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  /** True once built: screening may then skip the keys it refuses. */
  get ready(): boolean {
    return this.set !== null;
  }

  /** The head everything is in the set up to: read it before asking `mayContain`. */
  get at(): number {
    return this.position;
  }

  /** False only when no indicator with this fingerprint's first 8 bytes was ever listed (by `at`). */
  mayContain(fingerprint: string): boolean {
    return this.set!.mayContain(fingerprint);
  }

  /** Resolves once the set holds every change up to `head` (caught up from the feed). */
  async ensure(head: number): Promise<void> {
    while (this.position < head) await this.catchUp();
  }

  /** Built and caught up to the database's head now (tests and the bench wait on this). */
  async current(): Promise<void> {
    if (!this.set) throw new Error('the screening index is not built');
    await this.ensure(await this.store.head());
  }

  private poke(): void {
    if (this.set && !this.stopped) this.catchUp().catch((err: unknown) => this.logger.warn({ err }, 'screening index: catching up failed (the next call retries)'));
  }

  /** One catch-up at a time; a caller that needs a later head loops (ensure). */
  private catchUp(): Promise<void> {
    this.catching ??= (async () => {
      try {
        const { head, fingerprints } = await this.store.listedSince(this.position);
        this.set!.addMany(fingerprints);
        if (head > this.position) this.position = head;
      } finally {
        this.catching = null;
      }
    })();
    return this.catching;
  }

  private start(): void {
    this.buildOnce().catch((err: unknown) => {
      if (this.stopped) return;
      this.logger.error({ err }, `screening index: build failed; screening uses SQL for every key meanwhile, retrying in ${RETRY_MS / 1000} s`);
      this.retry = setTimeout(() => this.start(), RETRY_MS);
    });
  }

  private async buildOnce(): Promise<void> {
    const started = process.hrtime.bigint();
    const head = await this.store.head();
    // Sized from the indicator count (an upper bound of the listed ones), grown if rows arrive.
    let prefixes = new BigUint64Array(Math.max(1024, Math.ceil((await this.store.indicatorCount()) * 1.01)));
    let n = 0;
    let after = '';
    for (;;) {
      if (this.stopped) return;
      const page = await this.store.listedPage(after, PAGE);
      if (page.count === 0 || page.last === null) break;
      if (n + page.count > prefixes.length) {
        const grown = new BigUint64Array(Math.ceil((n + page.count) * 1.25));
        grown.set(prefixes.subarray(0, n));
        prefixes = grown;
      }
      n += PrefixSet.pack(page.prefixes, prefixes, n);
      after = page.last;
      if (page.count < PAGE) break;
    }
    // A large slack (many indicators no longer listed) is given back rather than kept.
    const set = PrefixSet.fromPrefixes(n < prefixes.length * 0.9 ? prefixes.slice(0, n) : prefixes.subarray(0, n), { owned: true });
    this.position = head;
    this.set = set;
    this.build = { seconds: Number(process.hrtime.bigint() - started) / 1e9, keys: set.size, bytes: set.bytes };
    this.logger.info({ ...this.build, head }, 'screening index built');
    this.poke();
  }
}
