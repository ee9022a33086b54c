import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Tx } from '../audit/transactions.js';

/** A statement already stored under an (issuer, jti) pair, with its first result. */
export interface StoredStatement {
  id: string;
  iss: string;
  jti: string;
  sha256: string;
  indicator_id: string;
  receipt: string;
}

/** One verified statement, ready to store. */
export interface NewStatement {
  id: string;
  indicatorId: string;
  iss: string;
  memberId: string;
  kid: string;
  jti: string;
  jws: string;
  sha256: string;
  iat: number;
  exp: number | null;
  category: string;
  confidence: number;
  tlp: string;
  shareWith: string[];
  reference: string | null;
  observedAt: string | null;
  sites: { url: string; fingerprint: string }[];
}

/**
 * The only writer of `statement` (each exact JWS as received, never changed), `statement_site`
 * and `statement_receipt`; its reads are the unscoped lookups ingest needs (what an (issuer, jti)
 * pair already holds). Reads for a viewer go through IndicatorStore, which alone decides what a
 * viewer may see.
 */
@Injectable()
export class StatementRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Statements stored under these (issuer, jti) pairs (outside a transaction, or inside `tx`). */
  async stored(pairs: { iss: string; jti: string }[], tx?: Tx): Promise<StoredStatement[]> {
    if (pairs.length === 0) return [];
    const runner = tx?.em ?? this.dataSource;
    return (await runner.query(
      `SELECT s.id, s.issuer_principal_id AS iss, s.jti, s.sha256, s.indicator_id, r.receipt
         FROM statement s JOIN statement_receipt r ON r.statement_id = s.id
         JOIN unnest($1::uuid[], $2::text[]) AS u(iss, jti) ON s.issuer_principal_id = u.iss AND s.jti = u.jti`,
      [pairs.map((p) => p.iss), pairs.map((p) => p.jti)],
    )) as StoredStatement[];
  }

  /** Inserts the statements and their reported sites, set-based. */
  async insert(tx: Tx, statements: NewStatement[], receivedAt: Date): Promise<void> {
    await tx.query(
      `INSERT INTO statement (id, indicator_id, issuer_principal_id, issuer_member_id, kid, jti, jws, sha256, issued_at, expires_at,
                              category, confidence, tlp, share_with, evidence_reference, evidence_observed_at, received_at)
       SELECT u.id, u.indicator, u.iss, u.member, u.kid, u.jti, u.jws, u.sha, to_timestamp(u.iat), to_timestamp(u.exp), u.category,
              u.confidence, u.tlp, string_to_array(u.share, ',')::uuid[], u.ref, u.observed, $17
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[],
                     $10::float8[], $11::text[], $12::int[], $13::text[], $14::text[], $15::text[], $16::timestamptz[])
              AS u(id, indicator, iss, member, kid, jti, jws, sha, iat, exp, category, confidence, tlp, share, ref, observed)`,
      [
        statements.map((s) => s.id),
        statements.map((s) => s.indicatorId),
        statements.map((s) => s.iss),
        statements.map((s) => s.memberId),
        statements.map((s) => s.kid),
        statements.map((s) => s.jti),
        statements.map((s) => s.jws),
        statements.map((s) => s.sha256),
        statements.map((s) => s.iat),
        statements.map((s) => s.exp),
        statements.map((s) => s.category),
        statements.map((s) => s.confidence),
        statements.map((s) => s.tlp),
        statements.map((s) => s.shareWith.join(',')),
        statements.map((s) => s.reference),
        statements.map((s) => s.observedAt),
        receivedAt,
      ],
    );
    const sites = statements.flatMap((s) => s.sites.map((site, position) => ({ statement: s.id, position, ...site })));
    if (sites.length > 0) {
      await tx.query(
        `INSERT INTO statement_site (statement_id, position, fingerprint, url)
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[])`,
        [sites.map((s) => s.statement), sites.map((s) => s.position), sites.map((s) => s.fingerprint), sites.map((s) => s.url)],
      );
    }
  }

  async insertReceipts(tx: Tx, auditIndex: number, receipts: { statementId: string; receipt: string }[]): Promise<void> {
    await tx.query(
      `INSERT INTO statement_receipt (statement_id, audit_index, receipt) SELECT u.s, $1, u.r FROM unnest($2::uuid[], $3::text[]) AS u(s, r)`,
      [auditIndex, receipts.map((r) => r.statementId), receipts.map((r) => r.receipt)],
    );
  }
}
