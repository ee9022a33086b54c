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
import type { Caller } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { MemberKind, Role } from '../../common/roles.js';
import { CONFIG } from '../../common/tokens.js';
import { isUniqueViolation } from '../../common/validate.js';
import { Transactions } from '../audit/transactions.js';
import { ExchangeKeyService } from '../exchange-key/exchange-key.service.js';
import { ExclusionsService } from '../exclusions/exclusions.service.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import { MembersService } from '../members/members.service.js';
import { MetricsService } from '../ops/metrics.service.js';
import { PrincipalsService, type SigningKey } from '../principals/principals.service.js';
import { StatementRepository } from './statement.repository.js';
import { CategoriesService } from '../categories/categories.service.js';
import { isStorableJti, RECEIPT_TYP, type ReceiptClaims, type StatementClaims, StatementRefusal, type StatementRefusalCode, validateClaims } from '@app/statements';

const STORABLE_ISS = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a submission produced for one item, in input order. */
export type SubmitItemOutcome =
  | { ok: true; statementId: string; indicatorId: string; receipt: string }
  | { ok: false; code: StatementRefusalCode; error: string };

interface Item {
  index: number;
  jws: string;
  sha256: string;
  kid?: string;
  key?: SigningKey;
  claims?: StatementClaims;
  refusal?: { code: StatementRefusalCode; error: string };
  /** index of an earlier item of this batch with the same (iss, jti) */
  sameAs?: number;
  /** this exact JWS was accepted before: its first result */
  stored?: SubmitItemOutcome;
}

/** Receipt payload (SPEC 4), signed by the exchange key. */

function refuse(item: Item, code: StatementRefusalCode, error: string): void {
  if (!item.refusal) item.refusal = { code, error };
}

/**
 * Submission of signed indicator statements (SPEC 4), a short pipeline: verify every item, store
 * the accepted ones (StatementRepository) and attach them to their indicators (IndicatorStore) in
 * one transaction with set-based SQL, then sign the receipts. Nothing is stored for a refused
 * item; one bad item never fails the rest. Replays are caught by the (issuer, jti) unique index,
 * so concurrent submissions of the same item end with one statement.
 */
@Injectable()
export class StatementsService {
  constructor(
    private readonly transactions: Transactions,
    private readonly statements: StatementRepository,
    private readonly store: IndicatorStore,
    private readonly principals: PrincipalsService,
    private readonly members: MembersService,
    private readonly exclusions: ExclusionsService,
    private readonly categories: CategoriesService,
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
        // A member submits its own statements, signed by its own principal (issue 16): checked
        // before anything else is looked up, so a foreign one learns nothing — no receipt, no id.
        const iss = (d.payload as { iss?: unknown } | null)?.iss;
        if (typeof iss === 'string' && iss.toLowerCase() !== caller.principalId) {
          refuse(item, 'FOREIGN_ISSUER', 'iss: a statement is submitted by its own issuer: iss must be your principal id');
        }
      } catch (err) {
        if (err instanceof StatementFormatError) refuse(item, err.code, err.message);
        else throw err;
      }
    }

    // The same JWS again returns its first result, whatever changed since (an exclusion, a revoked
    // key, a passed exp): byte-identical to what was verified and stored, it needs no new checks.
    await this.findStored(items, decoded);

    // 2. Keys, in one query; then signatures, concurrently (WebCrypto works off the event loop).
    const keys = await this.principals.signingKeys([...new Set(items.filter((i) => i.kid && !i.refusal && !i.stored).map((i) => i.kid!))]);
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

    // 3. Claims (the category from the vocabulary in force) and the issuer's standing.
    const needsClaims = items.some((i) => !i.refusal && !i.stored);
    const categories = new Set(needsClaims ? await this.categories.inForce() : []);
    for (const item of items) {
      if (item.refusal || item.stored) continue;
      try {
        item.claims = validateClaims(decoded.get(item.index), now);
      } catch (err) {
        if (err instanceof StatementRefusal) refuse(item, err.code, err.message);
        else throw err;
        continue;
      }
      if (!categories.has(item.claims.category)) {
        refuse(
          item,
          'BAD_CLAIMS',
          `claims.category: ${item.claims.category} is not a category in force; allowed: ${[...categories].join(', ')} (coordinators add more with addCategory)`,
        );
        continue;
      }
      const key = item.key!;
      if (key.principal_id !== item.claims.iss) refuse(item, 'UNKNOWN_KEY', 'header.kid: not a key of the principal named by iss');
      else if (key.suspended) refuse(item, 'MEMBER_SUSPENDED', 'iss: the issuer’s member is suspended');
      else if (key.disabled || !key.roles.includes(Role.CONTRIBUTOR)) refuse(item, 'NOT_CONTRIBUTOR', 'iss: the issuer does not hold the CONTRIBUTOR role');
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
    const rows = await this.statements.stored(candidates.map((i) => ({ iss: payload(i).iss.toLowerCase(), jti: payload(i).jti })));
    const bySha = new Map(rows.map((r) => [r.sha256, r]));
    for (const item of candidates) {
      const row = bySha.get(item.sha256);
      if (row) item.stored = { ok: true, statementId: row.id, indicatorId: row.indicator_id, receipt: row.receipt };
    }
  }

  private async checkShareWith(items: Item[]): Promise<void> {
    const wanted = [...new Set(items.flatMap((i) => (i.refusal ? [] : (i.claims?.shareWith ?? []))))];
    if (wanted.length === 0) return;
    const known = await this.members.existing(wanted);
    for (const item of items) {
      const missing = item.refusal ? undefined : item.claims?.shareWith.find((m) => !known.has(m));
      if (missing) refuse(item, 'UNKNOWN_MEMBER', `claims.shareWith: no member ${missing}`);
    }
  }

  /** SPEC 4: a statement about an excluded value is refused, whatever path it comes by. */
  private async checkExclusions(items: Item[]): Promise<void> {
    const fingerprints = [...new Set(items.filter((i) => !i.refusal && i.claims).map((i) => i.claims!.indicator.fingerprint))];
    if (fingerprints.length === 0) return;
    const reasons = await this.exclusions.reasonsFor(fingerprints);
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
    await this.transactions.run(caller, async (tx) => {
      const stored = new Map((await this.statements.stored(items.map((i) => ({ iss: i.claims!.iss, jti: i.claims!.jti })), tx)).map((r) => [`${r.iss}|${r.jti}`, r]));
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
      // The indicators (identity only; created where new), then the statements and their curation
      // state — all before the audit sequencing lock, which covers only the event, the feed rows
      // and the receipts (held to commit).
      const indicators = await this.store.identify(
        tx,
        fresh.map((i) => ({
          kind: i.claims!.indicator.kind,
          network: i.claims!.indicator.network ?? '',
          value: i.claims!.indicator.canonical,
          fingerprint: i.claims!.indicator.fingerprint,
        })),
      );
      const indicatorOf = (i: Item) => indicators.get(i.claims!.indicator.fingerprint)!.id;
      const ids = fresh.map(() => randomUUID());
      await this.statements.insert(
        tx,
        fresh.map((i, n) => ({
          id: ids[n],
          indicatorId: indicatorOf(i),
          iss: i.claims!.iss,
          memberId: i.key!.member_id,
          kid: i.key!.kid,
          jti: i.claims!.jti,
          jws: i.jws,
          sha256: i.sha256,
          iat: i.claims!.iat,
          exp: i.claims!.exp ?? null,
          category: i.claims!.category,
          confidence: i.claims!.confidence,
          tlp: i.claims!.tlp,
          shareWith: i.claims!.shareWith,
          reference: i.claims!.evidence?.reference ?? null,
          observedAt: i.claims!.evidence?.observedAt ?? null,
          sites: i.claims!.evidence?.sites ?? [],
        })),
        receivedAt,
      );
      const attached = fresh.map((i, n) => ({ statementId: ids[n], indicatorId: indicatorOf(i), coordinator: i.key!.member_kind === MemberKind.COORDINATOR }));
      await this.store.addStatements(tx, attached);

      // One event per call (as for a screening call), listing every statement it accepted; each
      // receipt's auditIndex is that event, whose canonical bytes contain the statement's SHA-256.
      const members = [...new Set(fresh.map((i) => i.key!.member_id))];
      const event = await tx.record({
        action: 'statements.accept',
        subjectId: null,
        subjectMemberId: members.length === 1 ? members[0] : null,
        data: {
          statements: fresh.map((i, n) => ({
            id: ids[n],
            sha256: i.sha256,
            iss: i.claims!.iss,
            jti: i.claims!.jti,
            kid: i.key!.kid,
            indicatorId: indicatorOf(i),
            indicatorFingerprint: i.claims!.indicator.fingerprint,
            tlp: i.claims!.tlp,
          })),
        },
      });
      // The receipts are signed (off the event loop) while the feed rows are written.
      const [, receipts] = await Promise.all([
        this.store.recordAdded(tx, event.index, attached, receivedAt),
        Promise.all(
          fresh.map((i) =>
            this.exchangeKey.sign(
              { statementSha256: i.sha256, indicatorId: indicatorOf(i), acceptedAt, auditIndex: event.index } satisfies ReceiptClaims,
              RECEIPT_TYP,
            ),
          ),
        ),
      ]);
      await this.statements.insertReceipts(
        tx,
        event.index,
        ids.map((statementId, n) => ({ statementId, receipt: receipts[n] })),
      );
      fresh.forEach((i, n) => outcomes.set(i.index, { ok: true, statementId: ids[n], indicatorId: indicatorOf(i), receipt: receipts[n] }));
    });
    return outcomes;
  }
}
