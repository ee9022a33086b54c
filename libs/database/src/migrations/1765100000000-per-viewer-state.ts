import type { MigrationInterface, QueryRunner } from 'typeorm';

const DERIVED_COLUMNS = [
  'status',
  'status_before_dispute',
  'category',
  'confidence',
  'tlp',
  'open_tlp',
  'visible_members',
  'attestation_count',
  'first_seen_at',
  'last_seen_at',
  'supported_until',
  'version',
  'updated_at',
];

/**
 * Per-viewer truth (issue 16). What an indicator shows is derived, for each viewer, from the
 * statements that viewer may see; so the curation state moves from the indicator to each
 * statement, and the change feed records changes per statement:
 *
 * - `statement_state`: one row per statement — its own status (PENDING, ACTIVE, DISPUTED,
 *   REJECTED, EXPIRED, REVOKED), the status a dispute interrupted, and the open disputes that cover
 *   it. A curator's decision changes the statements it applies to; a viewer's status of an
 *   indicator is the highest-ranked status among the statements it may see (README "Indicator
 *   states").
 * - `indicator_change`: one row per statement a transaction created or whose status it changed,
 *   keyed by the transaction's audit index. A viewer's feed is made of the rows of the statements it
 *   may see, so a statement it cannot see adds nothing to it.
 * - `indicator` keeps only the identity (kind, network, canonical value, fingerprint): every
 *   stored aggregate (status, version, confidence, category, counts, times, TLP, visibility) goes,
 *   so no read path can show one viewer what another's statements made of it.
 *
 * Existing data: each statement takes its indicator's status (the old verdict covered every
 * statement); the old feed's rows become one row per statement that existed at that index (a
 * statement exists from its receipt's audit index on). Nothing of the history is lost.
 */
export class PerViewerState1765100000000 implements MigrationInterface {
  name = 'PerViewerState1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE statement_state (
        statement_id uuid PRIMARY KEY REFERENCES statement (id),
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        status text NOT NULL CHECK (status IN ('PENDING', 'ACTIVE', 'DISPUTED', 'REJECTED', 'EXPIRED', 'REVOKED')),
        status_before_dispute text CHECK (status_before_dispute IN ('PENDING', 'ACTIVE')),
        disputed_by uuid[] NOT NULL DEFAULT '{}'
      )`);
    await q.query(`CREATE INDEX statement_state_indicator_idx ON statement_state (indicator_id)`);
    // The review queue and the expiry sweep look only at statements that can still change.
    await q.query(`CREATE INDEX statement_state_pending_idx ON statement_state (indicator_id) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX statement_expires_idx ON statement (expires_at) WHERE expires_at IS NOT NULL`);
    await q.query(`
      INSERT INTO statement_state (statement_id, indicator_id, status, status_before_dispute, disputed_by)
      SELECT s.id, s.indicator_id, i.status,
             CASE WHEN i.status = 'DISPUTED' THEN coalesce(i.status_before_dispute, 'ACTIVE') END,
             CASE WHEN i.status = 'DISPUTED'
                  THEN coalesce((SELECT array_agg(d.id ORDER BY d.created_at) FROM dispute d WHERE d.indicator_id = i.id AND d.status = 'OPEN'), '{}')
                  ELSE '{}' END
        FROM statement s JOIN indicator i ON i.id = s.indicator_id`);

    await q.query(`ALTER TABLE indicator_change RENAME TO indicator_change_v1`);
    await q.query(`ALTER TABLE indicator_change_v1 RENAME CONSTRAINT indicator_change_pkey TO indicator_change_v1_pkey`);
    await q.query(`
      CREATE TABLE indicator_change (
        idx bigint NOT NULL,
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        statement_id uuid NOT NULL REFERENCES statement (id),
        change text NOT NULL CHECK (change IN ('CREATED', 'STATUS')),
        status text NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (idx, indicator_id, statement_id)
      )`);
    await q.query(`CREATE INDEX indicator_change_statement_idx ON indicator_change (statement_id, idx)`);
    await q.query(`CREATE INDEX indicator_change_indicator_idx ON indicator_change (indicator_id, idx)`);
    await q.query(`
      INSERT INTO indicator_change (idx, indicator_id, statement_id, change, status, at)
      SELECT c.idx, c.indicator_id, s.id, CASE WHEN r.audit_index = c.idx THEN 'CREATED' ELSE 'STATUS' END, c.status, c.at
        FROM indicator_change_v1 c
        JOIN statement s ON s.indicator_id = c.indicator_id
        JOIN statement_receipt r ON r.statement_id = s.id
       WHERE r.audit_index = c.idx OR (r.audit_index < c.idx AND c.change = 'STATUS')`);
    await q.query(`DROP TABLE indicator_change_v1`);
    await q.query(`
      CREATE TRIGGER indicator_change_append_only BEFORE UPDATE OR DELETE ON indicator_change
      FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
    await q.query(`
      CREATE TRIGGER indicator_change_no_truncate BEFORE TRUNCATE ON indicator_change
      FOR EACH STATEMENT EXECUTE FUNCTION cordon_refuse_change()`);

    // A decision's scope: the statements it changed (the curation row stays the decision's record).
    await q.query(`ALTER TABLE curation ADD COLUMN statement_ids uuid[] NOT NULL DEFAULT '{}'`);
    await q.query(`DROP INDEX indicator_status_created_idx`);
    await q.query(`DROP INDEX indicator_updated_idx`);
    await q.query(`ALTER TABLE indicator ${DERIVED_COLUMNS.map((c) => `DROP COLUMN ${c}`).join(', ')}`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE indicator
        ADD COLUMN status text, ADD COLUMN status_before_dispute text, ADD COLUMN category text, ADD COLUMN confidence int,
        ADD COLUMN tlp text, ADD COLUMN open_tlp boolean, ADD COLUMN visible_members uuid[] NOT NULL DEFAULT '{}',
        ADD COLUMN attestation_count int NOT NULL DEFAULT 0, ADD COLUMN first_seen_at timestamptz, ADD COLUMN last_seen_at timestamptz,
        ADD COLUMN supported_until timestamptz, ADD COLUMN version int NOT NULL DEFAULT 1, ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    // The coalition's verdict as a coordinator sees it: the highest-ranked statement status.
    await q.query(`
      UPDATE indicator i SET
        status = a.status, category = a.category, confidence = a.confidence, tlp = a.tlp, open_tlp = a.tlp IN ('CLEAR', 'GREEN', 'AMBER'),
        visible_members = a.members, attestation_count = a.attestations, first_seen_at = a.first_seen, last_seen_at = a.last_seen,
        supported_until = a.until, version = a.version, updated_at = a.updated
      FROM (
        SELECT s.indicator_id,
               (ARRAY['EXPIRED','PENDING','ACTIVE','DISPUTED','REJECTED','REVOKED'])[max(array_position(ARRAY['EXPIRED','PENDING','ACTIVE','DISPUTED','REJECTED','REVOKED'], st.status))] AS status,
               (array_agg(s.category ORDER BY s.received_at))[1] AS category, max(s.confidence) AS confidence,
               (ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED'])[min(array_position(ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED'], s.tlp))] AS tlp,
               array_agg(DISTINCT s.issuer_member_id) AS members,
               count(DISTINCT s.issuer_member_id) FILTER (WHERE s.expires_at IS NULL OR s.expires_at > now())::int AS attestations,
               min(s.received_at) AS first_seen, max(s.received_at) AS last_seen,
               CASE WHEN bool_or(s.expires_at IS NULL) THEN NULL ELSE max(s.expires_at) END AS until,
               (SELECT count(DISTINCT c.idx)::int FROM indicator_change c WHERE c.indicator_id = s.indicator_id) AS version,
               (SELECT max(c.at) FROM indicator_change c WHERE c.indicator_id = s.indicator_id) AS updated
          FROM statement s JOIN statement_state st ON st.statement_id = s.id GROUP BY s.indicator_id) a
      WHERE a.indicator_id = i.id`);
    for (const c of ['status', 'category', 'confidence', 'tlp', 'open_tlp', 'first_seen_at', 'last_seen_at']) {
      await q.query(`ALTER TABLE indicator ALTER COLUMN ${c} SET NOT NULL`);
    }
    await q.query(`CREATE INDEX indicator_status_created_idx ON indicator (status, created_at, id)`);
    await q.query(`CREATE INDEX indicator_updated_idx ON indicator (updated_at, id)`);
    await q.query(`ALTER TABLE curation DROP COLUMN statement_ids`);
    await q.query(`ALTER TABLE indicator_change RENAME TO indicator_change_v2`);
    await q.query(`
      CREATE TABLE indicator_change (
        idx bigint NOT NULL,
        indicator_id uuid NOT NULL REFERENCES indicator (id),
        change text NOT NULL CHECK (change IN ('CREATED', 'ATTESTED', 'STATUS')),
        status text NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (idx, indicator_id)
      )`);
    await q.query(`
      INSERT INTO indicator_change (idx, indicator_id, change, status, at)
      SELECT c.idx, c.indicator_id,
             CASE WHEN bool_or(c.change = 'CREATED') AND NOT EXISTS (
                    SELECT 1 FROM indicator_change_v2 p WHERE p.indicator_id = c.indicator_id AND p.idx < c.idx) THEN 'CREATED'
                  WHEN bool_or(c.change = 'CREATED') THEN 'ATTESTED' ELSE 'STATUS' END,
             max(c.status), max(c.at)
        FROM indicator_change_v2 c GROUP BY c.idx, c.indicator_id`);
    await q.query(`DROP TABLE indicator_change_v2`);
    await q.query(`
      CREATE TRIGGER indicator_change_append_only BEFORE UPDATE OR DELETE ON indicator_change
      FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
    await q.query(`DROP INDEX statement_expires_idx`);
    await q.query(`DROP TABLE statement_state`);
  }
}
