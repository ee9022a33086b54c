import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { CREDENTIALS_CHANNEL } from '@app/database';
import { createTokenVerifier, type PublicJwk, TokenError } from '@app/signing';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Notifications } from '../../common/notifications.js';
import { COORDINATOR_ONLY_ROLES, MemberKind, type Role } from '../../common/roles.js';
import { CONFIG, LOGGER } from '../../common/tokens.js';
import { AuditService } from '../audit/audit.service.js';
import { MetricsService } from '../ops/metrics.service.js';
import { RateLimits } from '../ops/rate-limits.js';

interface KeyRow {
  kid: string;
  public_jwk: PublicJwk;
  principal_id: string;
  roles: Role[];
  disabled: boolean;
  member_id: string;
  member_kind: MemberKind;
  suspended: boolean;
}

/** last_used_at is kept to the minute: at most one write per key per minute per process. */
const LAST_USED_RESOLUTION_MS = 60_000;
/** A remembered key is read again after this long even if no change was announced. */
const KEY_MEMORY_MS = 10_000;
const KEY_MEMORY_ENTRIES = 10_000;

/**
 * Turns an Authorization header into a Caller (SPEC 2) or refuses it with UNAUTHENTICATED,
 * writing one audit event per refusal. The client learns nothing about why.
 */
@Injectable()
export class AuthService {
  private readonly lastUsedWritten = new Map<string, number>();
  /** Remembers tokens whose signature it has checked. */
  private readonly tokens = createTokenVerifier({ maxEntries: 10_000 });
  /**
   * Keys (with their principal's roles and standing) as last read, remembered only while this
   * process listens for credential changes: every change to a key, principal or member NOTIFYs
   * on commit (a trigger), which empties this; so does a credential change made by this process
   * (credentialTransaction), and a lost notifications connection (until it is back).
   */
  private readonly keys = new Map<string, { row: KeyRow; readAt: number }>();
  private rememberKeys = false;
  /** Bumped whenever the memory is emptied: a read that raced with a change is not remembered. */
  private generation = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: CordonConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly limits: RateLimits,
    private readonly metrics: MetricsService,
    notifications: Notifications,
  ) {
    notifications.on(CREDENTIALS_CHANNEL, () => this.forgetKeys());
    notifications.onState((connected) => {
      this.forgetKeys();
      this.rememberKeys = connected;
    });
  }

  /** Forgets every remembered key: the next request reads its key's standing again. */
  forgetKeys(): void {
    this.generation++;
    this.keys.clear();
  }

  /**
   * A transaction that changes who may do what (a key revoked, roles, a principal disabled, a
   * member suspended): once it has committed, this process forgets the keys it remembers before
   * anything else runs (the other processes forget on the NOTIFY the change sends).
   */
  credentialTransaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work).finally(() => this.forgetKeys());
  }

  /** `address`: the client's, to brake floods of refused sign-ins (none for WebSocket connects). */
  async authenticate(authorization: string | string[] | undefined, address?: string): Promise<Caller> {
    let row: KeyRow | undefined;
    try {
      if (typeof authorization !== 'string') throw new TokenError('missing Authorization header', undefined, undefined, 'missing Authorization header');
      const match = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
      if (!match) throw new TokenError('Authorization is not "Bearer <token>"', undefined, undefined, 'Authorization is not "Bearer <token>"');
      const verified = await this.tokens.verify(match[1], {
        audience: this.config.audience,
        now: () => this.clock.epochSeconds(),
        resolveKey: async (kid) => {
          row = await this.activeKey(kid);
          return row ? { publicJwk: row.public_jwk, principalId: row.principal_id } : null;
        },
      });
      if (!row) throw new TokenError('unknown key', verified.kid);
      if (row.suspended) throw new TokenError('member suspended', verified.kid, verified.principalId);
      if (row.disabled) throw new TokenError('principal disabled', verified.kid, verified.principalId);
      await this.touch(row.kid);
      return callerOf(row);
    } catch (err) {
      if (!(err instanceof TokenError)) throw err;
      // Past the limit this throws RATE_LIMITED (429) and the refusal is counted, not audited.
      await this.limits.signInRefused(address);
      await this.refused(err);
      throw CordonException.unauthenticated(err.callerReason);
    }
  }

  /**
   * The caller of a key as it stands now, or null when the key was revoked, the principal
   * disabled or the member suspended: what a long-lived subscription checks before each delivery.
   */
  async standing(kid: string): Promise<Caller | null> {
    const row = await this.readKey(kid);
    return row && !row.suspended && !row.disabled ? callerOf(row) : null;
  }

  /**
   * A principal as it stands now, or null when it is disabled, its member suspended or it has no
   * active key left: what a webhook checks before each delivery (`kid` names no key: `principal:<id>`).
   */
  async principalStanding(principalId: string): Promise<Caller | null> {
    const rows = (await this.dataSource.query(
      `SELECT p.id AS principal_id, p.roles, p.disabled, m.id AS member_id, m.kind AS member_kind, m.suspended
         FROM principal p JOIN member m ON m.id = p.member_id
        WHERE p.id = $1 AND EXISTS (SELECT 1 FROM principal_key k WHERE k.principal_id = p.id AND k.status = 'ACTIVE')`,
      [principalId],
    )) as Omit<KeyRow, 'kid' | 'public_jwk'>[];
    const row = rows[0];
    return row && !row.suspended && !row.disabled ? callerOf({ ...row, kid: `principal:${row.principal_id}`, public_jwk: {} as PublicJwk }) : null;
  }

  private async activeKey(kid: string): Promise<KeyRow | undefined> {
    const now = Date.now();
    const remembered = this.rememberKeys ? this.keys.get(kid) : undefined;
    if (remembered && now - remembered.readAt < KEY_MEMORY_MS) {
      this.metrics.keyReads.inc({ source: 'memory' });
      return remembered.row;
    }
    const generation = this.generation;
    const row = await this.readKey(kid);
    this.metrics.keyReads.inc({ source: 'database' });
    // Unknown kids are never remembered (they are refused, and braked per address).
    if (row && this.rememberKeys && generation === this.generation) {
      if (this.keys.size >= KEY_MEMORY_ENTRIES) this.keys.clear();
      this.keys.set(kid, { row, readAt: now });
    }
    return row;
  }

  private async readKey(kid: string): Promise<KeyRow | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT k.kid, k.public_jwk, p.id AS principal_id, p.roles, p.disabled,
              m.id AS member_id, m.kind AS member_kind, m.suspended
         FROM principal_key k
         JOIN principal p ON p.id = k.principal_id
         JOIN member m ON m.id = p.member_id
        WHERE k.kid = $1 AND k.status = 'ACTIVE'`,
      [kid],
    )) as KeyRow[];
    return rows[0];
  }

  /**
   * Records the refusal: the reason, and the kid only when it names a registered key; any other
   * kid is client-chosen text, kept only as its SHA-256 so nobody can write into the permanent log.
   */
  private async refused(err: TokenError): Promise<void> {
    let kid: string | null = null;
    let kidSha256: string | undefined;
    if (err.kid) {
      const registered = (await this.dataSource.query('SELECT 1 FROM principal_key WHERE kid = $1', [err.kid])) as unknown[];
      if (registered.length > 0) kid = err.kid;
      else kidSha256 = createHash('sha256').update(err.kid).digest('hex');
    }
    this.logger.info({ reason: err.reason, kid, kidSha256 }, 'authentication refused');
    try {
      await this.audit.recordAlone({
        action: 'auth.refused',
        actor: null,
        // Only a verified signature proves who tried; otherwise the kid is just a claim.
        subjectId: err.principalId ?? null,
        data: kidSha256 ? { reason: err.reason, kid, kidSha256 } : { reason: err.reason, kid },
      });
    } catch (auditErr) {
      this.logger.error({ err: auditErr }, 'could not audit a refused sign-in');
      throw auditErr;
    }
  }

  private async touch(kid: string): Promise<void> {
    const now = this.clock.now().getTime();
    const last = this.lastUsedWritten.get(kid);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWritten.set(kid, now);
    if (this.lastUsedWritten.size > 10_000) this.lastUsedWritten.clear();
    await this.dataSource
      .query(`UPDATE principal_key SET last_used_at = $2 WHERE kid = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, [
        kid,
        new Date(now),
      ])
      .catch((e: unknown) => this.logger.warn({ err: e }, 'could not record key use'));
  }
}

function callerOf(row: KeyRow): Caller {
  return {
    principalId: row.principal_id,
    memberId: row.member_id,
    memberKind: row.member_kind,
    // Defence in depth: CURATOR and ADMIN count only for a COORDINATOR member, whatever is stored.
    roles: new Set(row.member_kind === MemberKind.COORDINATOR ? row.roles : row.roles.filter((r) => !COORDINATOR_ONLY_ROLES.includes(r))),
    kid: row.kid,
  };
}
