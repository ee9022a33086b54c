import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indicators, the signed statements that support them, their reported sites, curation history,
 * disputes, sightings, notifications and the exclusion list.
 *
 * Visibility (SPEC 3) is kept on the indicator so that every read path can put it in its WHERE:
 * `open_tlp` (some statement is CLEAR/GREEN/AMBER) or the reader's member in `visible_members`
 * (issuers and shareWith of AMBER_STRICT/RED statements) or the reader is a coordinator.
 */
export class Indicators1764500000000 implements MigrationInterface {
  name = 'Indicators1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE indicator (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind IN ('WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL')),
        network text NOT NULL DEFAULT '',
        value text NOT NULL,
        fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
        status text NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'DISPUTED', 'REJECTED', 'EXPIRED', 'REVOKED')),
        status_before_dispute text,
        category text NOT NULL,
        confidence int NOT NULL CHECK (confidence BETWEEN 0 AND 100),
        tlp text NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED')),
        open_tlp boolean NOT NULL,
        visible_members uuid[] NOT NULL DEFAULT '{}',
        attestation_count int NOT NULL DEFAULT 0,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        supported_until timestamptz,
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX indicator_fingerprint_uq ON indicator (fingerprint)`);
    // The fingerprint is the SHA-256 of (kind, network, value): its unique index is the identity's.
    await q.query(`CREATE INDEX indicator_status_created_idx ON indicator (status, created_at, id)`);
    await q.query(`CREATE INDEX indicator_updated_idx ON indicator (updated_at, id)`);

    await q.query(`
      CREATE TABLE statement (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        issuer_principal_id uuid NOT NULL REFERENCES principal (id),
        issuer_member_id uuid NOT NULL REFERENCES member (id),
        kid text NOT NULL REFERENCES principal_key (kid),
        jti text NOT NULL CHECK (length(jti) BETWEEN 1 AND 128),
        jws text NOT NULL,
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        issued_at timestamptz NOT NULL,
        expires_at timestamptz,
        category text NOT NULL,
        confidence int NOT NULL CHECK (confidence BETWEEN 0 AND 100),
        tlp text NOT NULL CHECK (tlp IN ('CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED')),
        share_with uuid[] NOT NULL DEFAULT '{}',
        evidence_reference text,
        evidence_observed_at timestamptz,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX statement_issuer_jti_uq ON statement (issuer_principal_id, jti)`);
    await q.query(`CREATE INDEX statement_indicator_idx ON statement (indicator_id, received_at)`);
    // Kept apart from the statement so that a batch's statements are written before the audit
    // sequencing lock is taken; only the audit events and these short rows are written under it.
    await q.query(`
      CREATE TABLE statement_receipt (
        statement_id uuid PRIMARY KEY REFERENCES statement (id),
        audit_index bigint NOT NULL,
        receipt text NOT NULL
      )`);

    await q.query(`
      CREATE TABLE statement_site (
        statement_id uuid NOT NULL REFERENCES statement (id),
        position int NOT NULL,
        fingerprint text NOT NULL,
        url text NOT NULL,
        PRIMARY KEY (statement_id, position)
      )`);

    await q.query(`
      CREATE TABLE curation (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        action text NOT NULL,
        from_status text NOT NULL,
        to_status text NOT NULL,
        note text,
        actor_principal_id uuid REFERENCES principal (id),
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX curation_indicator_idx ON curation (indicator_id, at)`);

    await q.query(`
      CREATE TABLE dispute (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        member_id uuid NOT NULL REFERENCES member (id),
        principal_id uuid NOT NULL REFERENCES principal (id),
        reason text NOT NULL,
        status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'UPHELD', 'REJECTED')),
        resolution text,
        resolved_by uuid REFERENCES principal (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
      )`);
    await q.query(`CREATE INDEX dispute_indicator_idx ON dispute (indicator_id, status)`);
    await q.query(`CREATE INDEX dispute_status_idx ON dispute (status, created_at)`);

    await q.query(`
      CREATE TABLE sighting (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        member_id uuid NOT NULL REFERENCES member (id),
        principal_id uuid NOT NULL REFERENCES principal (id),
        kind text NOT NULL CHECK (kind IN ('SEEN', 'FALSE_POSITIVE', 'ACTIONED')),
        note text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX sighting_indicator_idx ON sighting (indicator_id, kind)`);

    await q.query(`
      CREATE TABLE notification (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES member (id),
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        kind text NOT NULL,
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz
      )`);
    await q.query(`CREATE INDEX notification_member_idx ON notification (member_id, created_at)`);

    await q.query(`
      CREATE TABLE exclusion (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL,
        network text NOT NULL DEFAULT '',
        value text NOT NULL,
        fingerprint text NOT NULL,
        reason text NOT NULL,
        created_by uuid NOT NULL REFERENCES principal (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz,
        removed_by uuid REFERENCES principal (id)
      )`);
    await q.query(`CREATE UNIQUE INDEX exclusion_active_fingerprint_uq ON exclusion (fingerprint) WHERE removed_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['exclusion', 'notification', 'sighting', 'dispute', 'curation', 'statement_site', 'statement_receipt', 'statement', 'indicator']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
