import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The channel every API process listens on to forget the keys it remembers (AuthService). */
export const CREDENTIALS_CHANNEL = 'cordon_credentials';

/**
 * Every change that can alter what a key may do — a key revoked or reinstated, a principal's roles
 * or standing, a member suspended or reinstated, anything deleted — sends a NOTIFY in its own
 * transaction, whichever code (or operator at a psql prompt) makes it. API processes remember
 * verified keys only while they listen for it, so a change is felt everywhere on commit.
 */
export class CredentialNotify1764900000000 implements MigrationInterface {
  name = 'CredentialNotify1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION cordon_credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('${CREDENTIALS_CHANNEL}', TG_TABLE_NAME);
        RETURN NULL;
      END $$`);
    const watched: [string, string][] = [
      ['member', 'kind, suspended'],
      ['principal', 'member_id, roles, disabled'],
      ['principal_key', 'kid, principal_id, alg, public_jwk, status'],
    ];
    for (const [table, columns] of watched) {
      await q.query(`
        CREATE TRIGGER ${table}_credentials_changed AFTER UPDATE OF ${columns} OR DELETE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION cordon_credentials_changed()`);
      await q.query(`
        CREATE TRIGGER ${table}_credentials_truncated AFTER TRUNCATE ON ${table}
          FOR EACH STATEMENT EXECUTE FUNCTION cordon_credentials_changed()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['member', 'principal', 'principal_key']) {
      await q.query(`DROP TRIGGER ${table}_credentials_changed ON ${table}`);
      await q.query(`DROP TRIGGER ${table}_credentials_truncated ON ${table}`);
    }
    await q.query(`DROP FUNCTION cordon_credentials_changed()`);
  }
}
