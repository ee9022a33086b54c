import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The change feed: one row per indicator a transaction changed, keyed by that transaction's audit
 * index. Audit indexes are gapless and committed in order (the sequencing lock is held to commit),
 * so a reader that has seen index N has seen everything before it: cursors never skip a change.
 * Rows are never deleted (tombstones never expire).
 */
export class ChangeFeed1764600000000 implements MigrationInterface {
  name = 'ChangeFeed1764600000000';

  async up(q: QueryRunner): Promise<void> {
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
      CREATE TRIGGER indicator_change_append_only BEFORE UPDATE OR DELETE ON indicator_change
      FOR EACH ROW EXECUTE FUNCTION cordon_refuse_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE indicator_change`);
  }
}
