import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import {
  decodeStatement,
  importVerifyingKey,
  type PublicJwk,
  StatementFormatError,
  type VerifyingKey,
  verifySignature,
} from '@app/signing';
import { DataSource, type EntityManager } from 'typeorm';
import { type Caller, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { MemberKind, Role } from '../../common/roles.js';
import { CONFIG } from '../../common/tokens.js';
import { isUniqueViolation } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import { ExchangeKeyService } from '../exchange-key/exchange-key.service.js';
import { MetricsService } from '../ops/metrics.service.js';
import { recomputeIndicators } from '../indicators/indicator-aggregates.js';
import { recordChanges } from '../indicators/indicator-changes.js';
import { isStorableJti, type StatementClaims, StatementRefusal, type StatementRefusalCode, validateClaims } from './statement-claims.js';

const STORABLE_ISS = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a submission produced for one item, in input order. */
export type SubmitItemOutcome =
  | { ok: true; statementId: string; indicatorId: string; receipt: string }
  | { ok: false; code: StatementRefusalCode; error: string };

interface KeyRow {
  kid: string;
  alg: string;
  public_jwk: PublicJwk;
  principal_id: string;
  roles: string[];
  disabled: boolean;
  member_id: string;
  member_kind: MemberKind;
  suspended: boolean;
}

interface Item {
  index: number;
  jws: string;
  sha256: string;
  kid?: string;
  key?: KeyRow;
  claims?: StatementClaims;
  refusal?: { code: StatementRefusalCode; error: string };
  /** index of an earlier item of this batch with the same (iss, jti) */
  sameAs?: number;
  /** this exact JWS was accepted before: its first result */
  stored?: SubmitItemOutcome;
}

/** Receipt payload (SPEC 4), signed by the exchange key. */
export interface ReceiptClaims {
  statementSha256: string;
  indicatorId: string;
  acceptedAt: string;
  auditIndex: number;
}

export const RECEIPT_TYP = 'cordon-receipt+jwt';

function refuse(item: Item, code: StatementRefusalCode, error: string): void {
  if (!item.refusal) item.refusal = { code, error };
}

/**
 * Submission of signed indicator statements (SPEC 4): verify every item, then write all accepted
 * ones in one transaction with set-based SQL. Nothing is stored for a refused item; one bad item
 * never fails the rest. Replays are caught by the (issuer, jti) unique index, so concurrent
 * submissions of the same item end with one statement.
 */
@Injectable()
export class StatementsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly exchangeKey: ExchangeKeyService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: CordonConfig,
    private readonly metrics: MetricsService,
  ) {}

  async submit(caller: Caller, jwsList: string[]): Promise<SubmitItemOutcome[]> {
    if (jwsList.length > this.config.maxSubmitBatch) {
      throw CordonException.badInput('jws', `at most ${this.config.maxSubmitBatch} statements per call (CORDON_MAX_SUBMIT_BATCH), got ${jwsList.length}`);
    }
    const now = this.clock.epochSeconds();
    const items: Item[] = jwsList.map((jws, index) => ({ index, jws, sha256: createHash('sha256').update(jws, 'utf8').digest('hex') }));

    // 1. Decode (format and header only).
    const decoded = new Map<number, unknown>();
    for (const item of items) {
      try {
        const d = decodeStatement(item.jws);
        item.kid = d.kid;
        decoded.set(item.index, d.payload);
        if (d.alg === undefined) refuse(item, 'BAD_HEADER', 'header.alg missing');
      } catch (err) {
        if (err instanceof StatementFormatError) refuse(item, err.code, err.message);
        else throw err;
      }
    }

    // The same JWS again returns its first result, whatever changed since (an exclusion, a revoked
    // key, a passed exp): byte-identical to what was verified and stored, it needs no new checks.
    await this.findStored(items, decoded);

    // 2. Keys, in one query; then signatures, concurrently (WebCrypto works off the event loop).
    const keys = await this.activeKeys([...new Set(items.filter((i) => i.kid && !i.refusal && !i.stored).map((i) => i.kid!))]);
    const imported = new Map<string, Promise<VerifyingKey>>();
    await Promise.all(
      items.map(async (item) => {
        if (item.refusal || item.stored) return;
        const key = keys.get(item.kid!);
        if (!key) return refuse(item, 'UNKNOWN_KEY', 'header.kid: not an active key of any principal');
        item.key = key;
        if (!imported.has(key.kid)) imported.set(key.kid, importVerifyingKey({ ...key.public_jwk, alg: key.alg } as PublicJwk));
        if (!(await verifySignature(item.jws, await imported.get(key.kid)!))) {
          refuse(item, 'BAD_SIGNATURE', 'signature: does not verify with the key named by kid');
        }
      }),
    );

    // 3. Claims and the issuer's standing.
    for (const item of items) {
      if (item.refusal || item.stored) continue;
      try {
        item.claims = validateClaims(decoded.get(item.index), now);
      } catch (err) {
        if (err instanceof StatementRefusal) refuse(item, err.code, err.message);
        else throw err;
        continue;
      }
      const key = item.key!;
      if (key.principal_id !== item.claims.iss) refuse(item, 'UNKNOWN_KEY', 'header.kid: not a key of the principal named by iss');
      else if (key.suspended) refuse(item, 'MEMBER_SUSPENDED', 'iss: the issuer’s member is suspended');
      else if (key.disabled || !key.roles.includes(Role.CONTRIBUTOR)) refuse(item, 'NOT_CONTRIBUTOR', 'iss: the issuer does not hold the CONTRIBUTOR role');
      else if (key.member_id !== caller.memberId && !isCoordinator(caller)) {
        refuse(item, 'FOREIGN_ISSUER', 'iss: a member submits its own statements (only coordinators relay others’)');
      }
    }

    // 4. Referenced members and the exclusion list, one query each.
    await this.checkShareWith(items);
    await this.checkExclusions(items);

    // 5. The same (iss, jti) twice in one batch: the later one repeats the first or is a replay.
    const firstByJti = new Map<string, Item>();
    for (const item of items) {
      if (item.refusal || item.stored || !item.claims) continue;
      const key = `${item.claims.iss}|${item.claims.jti}`;
      const first = firstByJti.get(key);
      if (!first) firstByJti.set(key, item);
      else if (first.sha256 === item.sha256) item.sameAs = first.index;
      else refuse(item, 'REPLAY', 'jti: this issuer already used this jti for a different statement');
    }

    const toWrite = items.filter((i) => !i.refusal && !i.stored && i.sameAs === undefined);
    const written = toWrite.length > 0 ? await this.write(caller, toWrite) : new Map<number, SubmitItemOutcome>();

    const outcomes = items.map((item): SubmitItemOutcome => {
      if (item.stored) return item.stored;
      if (item.refusal) return { ok: false, ...item.refusal };
      return written.get(item.sameAs ?? item.index)!;
    });
    for (const o of outcomes) this.metrics.statements.inc({ outcome: o.ok ? 'accepted' : o.code });
    return outcomes;
  }

  /** Items whose exact JWS is already stored (by issuer, jti and SHA-256 of the bytes). */
  private async findStored(items: Item[], decoded: Map<number, unknown>): Promise<void> {
    const candidates = items.filter((i) => {
      const p = decoded.get(i.index) as { iss?: unknown; jti?: unknown } | undefined;
      // Only pairs that could have been stored (the claim rules of validateClaims): anything else
      // — a 36-character non-UUID iss, a NUL in jti — would make PostgreSQL refuse the query.
      return !i.refusal && typeof p?.iss === 'string' && typeof p?.jti === 'string' && STORABLE_ISS.test(p.iss) && isStorableJti(p.jti);
    });
    if (candidates.length === 0) return;
    const payload = (i: Item) => decoded.get(i.index) as { iss: string; jti: string };
    const rows = (await this.dataSource.query(
      `SELECT s.id, s.issuer_principal_id AS iss, s.jti, s.sha256, s.indicator_id, r.receipt
         FROM statement s JOIN statement_receipt r ON r.statement_id = s.id
         JOIN unnest($1::uuid[], $2::text[]) AS u(iss, jti) ON s.issuer_principal_id = u.iss AND s.jti = u.jti`,
      [candidates.map((i) => payload(i).iss.toLowerCase()), candidates.map((i) => payload(i).jti)],
    )) as { id: string; iss: string; jti: string; sha256: string; indicator_id: string; receipt: string }[];
    const bySha = new Map(rows.map((r) => [r.sha256, r]));
    for (const item of candidates) {
      const row = bySha.get(item.sha256);
      if (row) item.stored = { ok: true, statementId: row.id, indicatorId: row.indicator_id, receipt: row.receipt };
    }
  }

  private async activeKeys(kids: string[]): Promise<Map<string, KeyRow>> {
    if (kids.length === 0) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT k.kid, k.alg, k.public_jwk, p.id AS principal_id, p.roles, p.disabled,
              m.id AS member_id, m.kind AS member_kind, m.suspended
         FROM principal_key k JOIN principal p ON p.id = k.principal_id JOIN member m ON m.id = p.member_id
        WHERE k.kid = ANY($1) AND k.status = 'ACTIVE'`,
      [kids],
    )) as KeyRow[];
    return new Map(rows.map((r) => [r.kid, r]));
  }

  private async checkShareWith(items: Item[]): Promise<void> {
    const wanted = [...new Set(items.flatMap((i) => (i.refusal ? [] : (i.claims?.shareWith ?? []))))];
    if (wanted.length === 0) return;
    const rows = (await this.dataSource.query('SELECT id FROM member WHERE id = ANY($1::uuid[])', [wanted])) as { id: string }[];
    const known = new Set(rows.map((r) => r.id));
    for (const item of items) {
      const missing = item.refusal ? undefined : item.claims?.shareWith.find((m) => !known.has(m));
      if (missing) refuse(item, 'UNKNOWN_MEMBER', `claims.shareWith: no member ${missing}`);
    }
  }

  /** SPEC 4: a statement about an excluded value is refused, whatever path it comes by. */
  private async checkExclusions(items: Item[]): Promise<void> {
    const fingerprints = [...new Set(items.filter((i) => !i.refusal && i.claims).map((i) => i.claims!.indicator.fingerprint))];
    if (fingerprints.length === 0) return;
    const rows = (await this.dataSource.query(
      'SELECT fingerprint, reason FROM exclusion WHERE removed_at IS NULL AND fingerprint = ANY($1)',
      [fingerprints],
    )) as { fingerprint: string; reason: string }[];
    const reasons = new Map(rows.map((r) => [r.fingerprint, r.reason]));
    for (const item of items) {
      const reason = item.refusal || !item.claims ? undefined : reasons.get(item.claims.indicator.fingerprint);
      if (reason !== undefined) refuse(item, 'EXCLUDED', `claims.indicator: the value is on the exclusion list: ${reason}`);
    }
  }

  /**
   * One transaction, insert-only: the (issuer, jti) pairs already stored are answered from what is
   * stored; for the rest, indicators are upserted and statements, sites and aggregates written
   * first; the audit events and receipts come last, so the audit sequencing lock (held to commit)
   * covers as little work as possible. A concurrent submission of the same
   * (issuer, jti) makes the insert hit the unique index: the transaction rolls back and the batch
   * is tried again, when that pair is found stored.
   */
  private async write(caller: Caller, items: Item[]): Promise<Map<number, SubmitItemOutcome>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeOnce(caller, items);
      } catch (err) {
        // A concurrent duplicate (unique index), or two batches locking the same indicators
        // (deadlock / serialization failure): roll back and try again.
        const code = (err as { driverError?: { code?: string }; code?: string }).driverError?.code ?? (err as { code?: string }).code;
        if (attempt < 5 && (isUniqueViolation(err, 'statement_issuer_jti_uq') || code === '40P01' || code === '40001')) continue;
        throw err;
      }
    }
  }

  private async writeOnce(caller: Caller, items: Item[]): Promise<Map<number, SubmitItemOutcome>> {
    const outcomes = new Map<number, SubmitItemOutcome>();
    await this.dataSource.transaction(async (em) => {
      const stored = await this.stored(em, items);
      const fresh: Item[] = [];
      for (const item of items) {
        const row = stored.get(`${item.claims!.iss}|${item.claims!.jti}`);
        if (!row) fresh.push(item);
        else if (row.sha256 === item.sha256) outcomes.set(item.index, { ok: true, statementId: row.id, indicatorId: row.indicator_id, receipt: row.receipt });
        else outcomes.set(item.index, { ok: false, code: 'REPLAY', error: 'jti: this issuer already used this jti for a different statement' });
      }
      if (fresh.length === 0) return;

      const receivedAt = this.clock.now();
      const acceptedAt = receivedAt.toISOString();
      const indicators = await this.upsertIndicators(em, fresh, receivedAt, caller.principalId);
      const indicatorOf = (i: Item) => indicators.get(i.claims!.indicator.fingerprint)!;
      const ids = fresh.map(() => randomUUID());
      await em.query(
        `INSERT INTO statement (id, indicator_id, issuer_principal_id, issuer_member_id, kid, jti, jws, sha256, issued_at, expires_at,
                                category, confidence, tlp, share_with, evidence_reference, evidence_observed_at, received_at)
         SELECT u.id, u.indicator, u.iss, u.member, u.kid, u.jti, u.jws, u.sha, to_timestamp(u.iat), to_timestamp(u.exp), u.category,
                u.confidence, u.tlp, string_to_array(u.share, ',')::uuid[], u.ref, u.observed, $17
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[],
                       $10::float8[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[], $16::timestamptz[])
                AS u(id, indicator, iss, member, kid, jti, jws, sha, iat, exp, category, confidence, tlp, share, ref, observed)`,
        [
          ids,
          fresh.map((i) => indicatorOf(i).id),
          fresh.map((i) => i.claims!.iss),
          fresh.map((i) => i.key!.member_id),
          fresh.map((i) => i.key!.kid),
          fresh.map((i) => i.claims!.jti),
          fresh.map((i) => i.jws),
          fresh.map((i) => i.sha256),
          fresh.map((i) => i.claims!.iat),
          fresh.map((i) => i.claims!.exp ?? null),
          fresh.map((i) => i.claims!.category),
          fresh.map((i) => i.claims!.confidence),
          fresh.map((i) => i.claims!.tlp),
          fresh.map((i) => i.claims!.shareWith.join(',')),
          fresh.map((i) => i.claims!.evidence?.reference ?? null),
          fresh.map((i) => i.claims!.evidence?.observedAt ?? null),
          receivedAt,
        ],
      );
      const sites = fresh.flatMap((i, n) => (i.claims!.evidence?.sites ?? []).map((s, position) => ({ statement: ids[n], position, ...s })));
      if (sites.length > 0) {
        await em.query(
          `INSERT INTO statement_site (statement_id, position, fingerprint, url)
           SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[])`,
          [sites.map((s) => s.statement), sites.map((s) => s.position), sites.map((s) => s.fingerprint), sites.map((s) => s.url)],
        );
      }
      // Only indicators that existed before, or got several statements now, need their aggregates recomputed.
      await recomputeIndicators(em, [...new Set([...indicators.values()].filter((v) => !v.exact).map((v) => v.id))]);

      // Last, under the audit sequencing lock (held to commit): the events, then the receipts.
      // One event per call (as for a screening call), listing every statement it accepted; each
      // receipt's auditIndex is that event, whose canonical bytes contain the statement's SHA-256.
      const members = [...new Set(fresh.map((i) => i.key!.member_id))];
      const event = await this.audit.record(em, {
        action: 'statements.accept',
        actor: caller,
        subjectId: null,
        subjectMemberId: members.length === 1 ? members[0] : null,
        data: {
          statements: fresh.map((i, n) => ({
            id: ids[n],
            sha256: i.sha256,
            iss: i.claims!.iss,
            jti: i.claims!.jti,
            kid: i.key!.kid,
            indicatorId: indicatorOf(i).id,
            indicatorFingerprint: i.claims!.indicator.fingerprint,
            tlp: i.claims!.tlp,
          })),
        },
      });
      // The receipts are signed (off the event loop) while the change rows are written.
      const [, receipts] = await Promise.all([
        recordChanges(
          em,
          event.index,
          [...indicators.values()].map((v) => ({
            indicatorId: v.id,
            change: v.created ? ('CREATED' as const) : v.statusChanged ? ('STATUS' as const) : ('ATTESTED' as const),
            status: v.status,
          })),
        ),
        Promise.all(
          fresh.map((i) =>
            this.exchangeKey.sign(
              { statementSha256: i.sha256, indicatorId: indicatorOf(i).id, acceptedAt, auditIndex: event.index } satisfies ReceiptClaims,
              RECEIPT_TYP,
            ),
          ),
        ),
      ]);
      await em.query(
        `INSERT INTO statement_receipt (statement_id, audit_index, receipt) SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[])`,
        [ids, ids.map(() => event.index), receipts],
      );
      fresh.forEach((i, n) => outcomes.set(i.index, { ok: true, statementId: ids[n], indicatorId: indicatorOf(i).id, receipt: receipts[n] }));
    });
    return outcomes;
  }

  /** Statements already stored under these (issuer, jti) pairs. */
  private async stored(em: EntityManager, items: Item[]) {
    const rows = (await em.query(
      `SELECT s.id, s.issuer_principal_id AS iss, s.jti, s.sha256, s.indicator_id, r.receipt
         FROM statement s JOIN statement_receipt r ON r.statement_id = s.id JOIN unnest($1::uuid[], $2::text[]) AS u(iss, jti) ON s.issuer_principal_id = u.iss AND s.jti = u.jti`,
      [items.map((i) => i.claims!.iss), items.map((i) => i.claims!.jti)],
    )) as { id: string; iss: string; jti: string; sha256: string; indicator_id: string; receipt: string }[];
    return new Map(rows.map((r) => [`${r.iss}|${r.jti}`, r]));
  }

  /**
   * One row per identity in the batch (a multi-row upsert may not touch a row twice). A new
   * indicator is ACTIVE when a coordinator member attests it, PENDING otherwise; an existing
   * PENDING one becomes ACTIVE on a coordinator's statement; an EXPIRED one is supported again.
   */
  private async upsertIndicators(
    em: EntityManager,
    items: Item[],
    at: Date,
    actorPrincipalId: string,
  ): Promise<Map<string, { id: string; status: string; created: boolean; statusChanged: boolean; exact: boolean }>> {
    const byFingerprint = new Map<string, { item: Item; coordinator: boolean; count: number }>();
    for (const item of items) {
      const fp = item.claims!.indicator.fingerprint;
      const coordinator = item.key!.member_kind === MemberKind.COORDINATOR;
      const seen = byFingerprint.get(fp);
      if (!seen) byFingerprint.set(fp, { item, coordinator, count: 1 });
      else {
        seen.coordinator ||= coordinator;
        seen.count++;
      }
    }
    // A fixed order (by fingerprint): concurrent batches lock shared indicators in the same order.
    const rows = [...byFingerprint.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    const result = (await em.query(
      `WITH prior AS (SELECT i.fingerprint, i.status FROM unnest($4::text[]) AS k(fp) JOIN indicator i ON i.fingerprint = k.fp),
       up AS (
       INSERT INTO indicator (kind, network, value, fingerprint, status, category, confidence, tlp, open_tlp, visible_members,
                              attestation_count, first_seen_at, last_seen_at, supported_until)
       SELECT u.kind, u.network, u.value, u.fp, u.status, u.category, u.confidence, u.tlp,
              u.tlp IN ('CLEAR', 'GREEN', 'AMBER'), string_to_array(u.visible, ',')::uuid[], 1, $7, $7, to_timestamp(u.until)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $8::int[], $9::text[], $10::text[],
                     $11::float8[])
              AS u(kind, network, value, fp, status, category, confidence, tlp, visible, until)
       ON CONFLICT (fingerprint) DO UPDATE SET
         status = CASE
           WHEN indicator.status = 'PENDING' AND EXCLUDED.status = 'ACTIVE' THEN 'ACTIVE'
           WHEN indicator.status = 'EXPIRED' THEN EXCLUDED.status
           ELSE indicator.status END,
         version = indicator.version + CASE
           WHEN (indicator.status = 'PENDING' AND EXCLUDED.status = 'ACTIVE') OR indicator.status = 'EXPIRED' THEN 1 ELSE 0 END,
         updated_at = $7
       RETURNING id, fingerprint, status, (xmax = 0) AS created)
       SELECT up.id, up.fingerprint, up.status, up.created, prior.status AS prior_status FROM up LEFT JOIN prior USING (fingerprint)`,
      [
        rows.map((r) => r.item.claims!.indicator.kind),
        rows.map((r) => r.item.claims!.indicator.network ?? ''),
        rows.map((r) => r.item.claims!.indicator.canonical),
        rows.map((r) => r.item.claims!.indicator.fingerprint),
        rows.map((r) => (r.coordinator ? 'ACTIVE' : 'PENDING')),
        rows.map((r) => r.item.claims!.category),
        at,
        // A new indicator with one statement gets its aggregates here, exactly (no recompute needed).
        rows.map((r) => r.item.claims!.confidence),
        rows.map((r) => r.item.claims!.tlp),
        rows.map((r) => [...new Set([r.item.key!.member_id, ...r.item.claims!.shareWith])].join(',')),
        rows.map((r) => r.item.claims!.exp ?? null),
      ],
    )) as { id: string; fingerprint: string; status: string; created: boolean; prior_status: string | null }[];
    // Status changes made by statements (PENDING → ACTIVE, EXPIRED → revived) join the curation history.
    const changed = result.filter((r) => !r.created && r.prior_status !== null && r.prior_status !== r.status);
    if (changed.length > 0) {
      await em.query(
        `INSERT INTO curation (indicator_id, action, from_status, to_status, note, actor_principal_id)
         SELECT u.id, 'STATEMENT', u.from_status, u.to_status, 'a new statement', $4::uuid
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, from_status, to_status)`,
        [changed.map((r) => r.id), changed.map((r) => r.prior_status), changed.map((r) => r.status), actorPrincipalId],
      );
    }
    const counts = new Map(rows.map((r) => [r.item.claims!.indicator.fingerprint, r.count]));
    return new Map(
      result.map((r) => [
        r.fingerprint,
        {
          id: r.id,
          status: r.status,
          created: r.created,
          statusChanged: !r.created && r.prior_status !== null && r.prior_status !== r.status,
          exact: r.created && counts.get(r.fingerprint) === 1,
        },
      ]),
    );
  }
}
