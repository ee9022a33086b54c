import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log as a verifiable Merkle tree (RFC 9162, SPEC 6).
 *
 * - `audit_node`: the hash of every complete, aligned subtree of level >= 1 (level 0 is
 *   `audit_event.leaf_hash`): node (level, idx) covers leaves [idx·2^level, (idx+1)·2^level).
 *   A root, an inclusion proof or a consistency proof at any size needs O(log n) of them.
 * - `audit_tree`: how many leaves the stored nodes cover, and the frontier (the roots of the
 *   perfect subtrees on the right edge), so integrating new leaves never re-reads the tree.
 *   Integration runs after events commit, apart from the sequencing lock (as Trillian's
 *   sequencer and integrator are apart), so the write path stays one statement.
 * - `audit_checkpoint`: every signed checkpoint issued, which the verify command checks.
 *
 * All three refuse DELETE and TRUNCATE; nodes and checkpoints refuse UPDATE too.
 */
export class AuditTree1764700000000 implements MigrationInterface {
  name = 'AuditTree1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_node (
        level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
        idx bigint NOT NULL CHECK (idx >= 0),
        hash bytea NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (level, idx)
      )`);
    await q.query(`
      CREATE TABLE audit_tree (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        size bigint NOT NULL CHECK (size >= 0),
        frontier bytea NOT NULL
      )`);
    await q.query(`INSERT INTO audit_tree (id, size, frontier) VALUES (true, 0, ''::bytea)`);
    await q.query(`
      CREATE TABLE audit_checkpoint (
        tree_size bigint NOT NULL CHECK (tree_size >= 0),
        root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
        issued_at timestamptz NOT NULL,
        signature text NOT NULL,
        PRIMARY KEY (tree_size, issued_at)
      )`);
    for (const table of ['audit_node', 'audit_checkpoint']) {
      await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
    }
    await q.query(`
      CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
      FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
    for (const table of ['audit_node', 'audit_checkpoint', 'audit_tree', 'indicator_change']) {
      await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION cordon_refuse_change()`);
    }
    // The tree only grows: its size never goes back.
    await q.query(`
      CREATE FUNCTION cordon_tree_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.size < OLD.size THEN
          RAISE EXCEPTION 'table % only grows: size % after %', TG_TABLE_NAME, NEW.size, OLD.size
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END $$`);
    for (const table of ['audit_tree', 'audit_head']) {
      await q.query(`
        CREATE TRIGGER ${table}_only_grows BEFORE UPDATE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION cordon_tree_only_grows()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER indicator_change_no_truncate ON indicator_change`);
    await q.query(`DROP TRIGGER audit_head_only_grows ON audit_head`);
    await q.query(`DROP TABLE audit_checkpoint`);
    await q.query(`DROP TABLE audit_tree`);
    await q.query(`DROP TABLE audit_node`);
    await q.query(`DROP FUNCTION cordon_tree_only_grows()`);
  }
}
