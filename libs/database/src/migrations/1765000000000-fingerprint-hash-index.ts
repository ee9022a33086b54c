import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A hash index on indicator fingerprints for screening's lookups (issue 6). Screening probes one
 * fingerprint at a time (SPEC 5: equality only); a hash index answers that from a 4-byte hash code
 * per row — about a quarter of the unique B-tree's size (32 MB against 118 MB per million
 * indicators) and half its work per probe (measured: 10,000 probes in 44 ms against 97 ms at 1M).
 * The smaller index also stays in PostgreSQL's buffers far longer as the table grows. The B-tree
 * stays: it enforces uniqueness (ingest's ON CONFLICT) and serves prefix ranges (screenByPrefix).
 *
 * Built in the migration's transaction: screening reads go on while it is built, writes to
 * indicator wait (about 4 s per million indicators on a 2-core machine).
 */
export class FingerprintHashIndex1765000000000 implements MigrationInterface {
  name = 'FingerprintHashIndex1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX indicator_fingerprint_hash ON indicator USING hash (fingerprint)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX indicator_fingerprint_hash`);
  }
}
