import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Members, principals and their keys, the exchange's own keys, and the append-only audit log.
 * The audit tables refuse UPDATE, DELETE and TRUNCATE from the moment they exist.
 */
export class Foundation1764400000000 implements MigrationInterface {
  name = 'Foundation1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE member (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        kind text NOT NULL CHECK (kind IN ('CARD_PROCESSOR', 'CRYPTO_EXCHANGE', 'COORDINATOR')),
        suspended boolean NOT NULL DEFAULT false,
        suspended_reason text,
        suspended_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX member_name_uq ON member (lower(name))`);

    await q.query(`
      CREATE TABLE principal (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        member_id uuid NOT NULL REFERENCES member (id),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        roles text[] NOT NULL CHECK (
          cardinality(roles) > 0
          AND roles <@ ARRAY['SCREENER', 'CONTRIBUTOR', 'CURATOR', 'AUDITOR', 'ADMIN']::text[]
        ),
        disabled boolean NOT NULL DEFAULT false,
        disabled_reason text,
        disabled_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX principal_member_name_uq ON principal (member_id, lower(name))`);

    await q.query(`
      CREATE TABLE principal_key (
        kid text PRIMARY KEY,
        principal_id uuid NOT NULL REFERENCES principal (id),
        alg text NOT NULL CHECK (alg IN ('ES256', 'EdDSA')),
        public_jwk jsonb NOT NULL,
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'REVOKED')),
        revoked_reason text,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        CHECK ((status = 'REVOKED') = (revoked_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX principal_key_principal_idx ON principal_key (principal_id)`);

    // The exchange's signing keys. private_jwk is a JWE when sealed, null when the private key
    // lives in CORDON_EXCHANGE_KEY_FILE (the public part is still kept, so old receipts verify).
    await q.query(`
      CREATE TABLE exchange_key (
        kid text PRIMARY KEY,
        alg text NOT NULL CHECK (alg IN ('ES256', 'EdDSA')),
        public_jwk jsonb NOT NULL,
        private_jwk text,
        sealed boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
    await q.query(`CREATE UNIQUE INDEX exchange_key_one_current_uq ON exchange_key ((true))
      WHERE retired_at IS NULL AND private_jwk IS NOT NULL`);

    // The audit log: events get gapless indexes in commit order because every writer takes the
    // single audit_head row lock and holds it to commit.
    await q.query(`
      CREATE TABLE audit_head (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        size bigint NOT NULL CHECK (size >= 0)
      )`);
    await q.query(`INSERT INTO audit_head (id, size) VALUES (true, 0)`);
    await q.query(`
      CREATE TABLE audit_event (
        idx bigint PRIMARY KEY CHECK (idx >= 0),
        at timestamptz NOT NULL,
        action text NOT NULL,
        actor_principal_id uuid,
        actor_member_id uuid,
        subject_id text,
        subject_member_id uuid,
        canonical text NOT NULL,
        leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32)
      )`);
    await q.query(`CREATE INDEX audit_event_action_idx ON audit_event (action, idx)`);
    await q.query(`CREATE INDEX audit_event_actor_member_idx ON audit_event (actor_member_id, idx)`);
    await q.query(`CREATE INDEX audit_event_subject_idx ON audit_event (subject_id, idx)`);
    await q.query(`CREATE INDEX audit_event_subject_member_idx ON audit_event (subject_member_id, idx)`);
    await q.query(`
      CREATE FUNCTION cordon_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
      FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
      FOR EACH STATEMENT EXECUTE FUNCTION cordon_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
      FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
      FOR EACH STATEMENT EXECUTE FUNCTION cordon_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_event`);
    await q.query(`DROP TABLE audit_head`);
    await q.query(`DROP FUNCTION cordon_refuse_change()`);
    await q.query(`DROP TABLE exchange_key`);
    await q.query(`DROP TABLE principal_key`);
    await q.query(`DROP TABLE principal`);
    await q.query(`DROP TABLE member`);
  }
}
