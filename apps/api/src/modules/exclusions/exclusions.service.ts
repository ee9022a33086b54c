import { Injectable } from '@nestjs/common';
import { parse } from '@app/canonical';
import { DataSource, type EntityManager } from 'typeorm';
import { type Caller, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import { requestLoader } from '../../common/request-loader.js';
import { text, uuid } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import { Transactions } from '../audit/transactions.js';
import { CurationService } from '../curation/curation.service.js';
import type { IndicatorView } from '../indicators/indicator.rows.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import type { ExclusionInput } from './dto/exclusion.input.js';
import { EXCLUSION_COLUMNS, type ExclusionRow } from './exclusion.rows.js';

/** Statuses an indicator can be revoked from (and still match, or could again). */
const REVOCABLE: ReadonlySet<string> = new Set(['ACTIVE', 'DISPUTED', 'PENDING']);

export interface AddedExclusion {
  row: ExclusionRow;
  /** The indicator this call revoked (revokeMatching), as it now stands. */
  revokedIndicator: IndicatorView | null;
  /** Set when a listed indicator for the value can still match and was left as it is. */
  warning: string | null;
}

/**
 * The exclusion list (SPEC 4): known-benign values that no statement may be about. The
 * statements service refuses them (code EXCLUDED) by fingerprint on every path; this service
 * keeps the list. Adding an exclusion for a value that is already an indicator changes nothing
 * about the indicator unless asked (revokeMatching): the answer names it (existingIndicator, and a
 * warning while it still matches) and the curator decides.
 */
@Injectable()
export class ExclusionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly store: IndicatorStore,
    private readonly transactions: Transactions,
    private readonly curation: CurationService,
  ) {}

  /** SPEC 4: the reasons of the exclusions in force for these fingerprints (statements about them are refused). */
  async reasonsFor(fingerprints: string[]): Promise<Map<string, string>> {
    if (fingerprints.length === 0) return new Map();
    const rows = (await this.dataSource.query('SELECT fingerprint, reason FROM exclusion WHERE removed_at IS NULL AND fingerprint = ANY($1)', [
      fingerprints,
    ])) as { fingerprint: string; reason: string }[];
    return new Map(rows.map((r) => [r.fingerprint, r.reason]));
  }

  /**
   * Adds an exclusion. An indicator already listed for the value is named in the answer
   * (existingIndicator, with a warning while it can still match); with `revokeMatching` it is
   * revoked in the same transaction, the exclusion's reason as the revocation's — both or neither.
   */
  async add(caller: Caller, input: ExclusionInput): Promise<AddedExclusion> {
    this.requireCoordinator(caller);
    const reason = text('input.reason', input.reason);
    const parsed = parse(input.kind, input.value, input.network ?? undefined);
    if (!parsed.ok) {
      const field = parsed.field === 'kind' || parsed.field === 'network' ? `input.${parsed.field}` : 'input.value';
      throw CordonException.badInput(field, `${parsed.message.replace(/^(value|network|kind): /, '')} (${parsed.code})`);
    }
    return this.transactions.run(caller, async (tx) => {
      const [row] = await tx.query<ExclusionRow>(
        `INSERT INTO exclusion (kind, network, value, fingerprint, reason, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (fingerprint) WHERE removed_at IS NULL DO NOTHING
         RETURNING ${EXCLUSION_COLUMNS}`,
        [parsed.kind, parsed.network ?? '', parsed.canonical, parsed.fingerprint, reason, caller.principalId, this.clock.now()],
      );
      if (!row) throw CordonException.badInput('input.value', 'already excluded: an exclusion for this value is in force');
      const [indicator] = await this.store.viewsByFingerprint(caller, [parsed.fingerprint], tx.em);
      await tx.record({
        action: 'exclusion.add',
        subjectId: row.id,
        data: {
          kind: row.kind,
          network: row.network,
          fingerprint: row.fingerprint,
          reason: row.reason,
          existingIndicatorId: indicator?.id ?? null,
          existingIndicatorStatus: indicator?.status ?? null,
          revokeMatching: input.revokeMatching === true,
        },
      });
      const live = indicator !== undefined && REVOCABLE.has(indicator.status);
      if (live && input.revokeMatching === true) {
        const revoked = await this.curation.revokeIn(tx, indicator.id, `excluded as known-benign: ${reason}`);
        return { row, revokedIndicator: revoked, warning: null };
      }
      const warning = live
        ? `indicator ${indicator.id} for this value is ${indicator.status}` +
          (indicator.status === 'PENDING' ? ' (approving it would make it match)' : ' and still matches in screening') +
          '; the exclusion only refuses new statements: revoke it with revokeIndicator, or add the exclusion with revokeMatching: true'
        : null;
      return { row, revokedIndicator: null, warning };
    });
  }

  async remove(caller: Caller, id: string): Promise<ExclusionRow> {
    this.requireCoordinator(caller);
    const exclusionId = uuid('id', id);
    return this.dataSource.transaction(async (em: EntityManager) => {
      // TypeORM answers an UPDATE … RETURNING on PostgreSQL with [rows, affected count].
      const [rows] = (await em.query(
        `UPDATE exclusion SET removed_at = $2, removed_by = $3
          WHERE id = $1 AND removed_at IS NULL
          RETURNING ${EXCLUSION_COLUMNS}`,
        [exclusionId, this.clock.now(), caller.principalId],
      )) as [ExclusionRow[], number];
      const row = rows[0];
      if (!row) throw new CordonException(ErrorCode.NOT_FOUND, 'no exclusion in force with this id', 'id');
      await this.audit.record(em, {
        action: 'exclusion.remove',
        actor: caller,
        subjectId: row.id,
        data: { kind: row.kind, network: row.network, fingerprint: row.fingerprint },
      });
      return row;
    });
  }

  async list(caller: Caller, includeRemoved: boolean): Promise<ExclusionRow[]> {
    this.requireCoordinator(caller);
    return (await this.dataSource.query(
      `SELECT ${EXCLUSION_COLUMNS} FROM exclusion ${includeRemoved ? '' : 'WHERE removed_at IS NULL'} ORDER BY created_at, id`,
    )) as ExclusionRow[];
  }

  /** The indicator with this fingerprint, if any the caller may see; batched per request. */
  indicatorByFingerprint(req: object, caller: Caller, fingerprint: string): Promise<IndicatorView | undefined> {
    return requestLoader<string, IndicatorView | undefined>(req, 'exclusion-indicator', async (fingerprints) => {
      const rows = await this.store.viewsByFingerprint(caller, fingerprints);
      const byFingerprint = new Map(rows.map((r) => [r.fingerprint, r]));
      return fingerprints.map((f) => byFingerprint.get(f));
    }).load(fingerprint);
  }

  /** CURATOR is held only by coordinator members' principals; checked again here all the same. */
  private requireCoordinator(caller: Caller): void {
    if (!isCoordinator(caller)) throw CordonException.forbidden('the exclusion list is kept by coordinator members');
  }
}
