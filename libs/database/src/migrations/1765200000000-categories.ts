import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The category vocabulary (README "Categories"): a statement's `category` must be one in force.
 * Seeded with the documented vocabulary and with every category already used by a stored
 * statement, so an upgraded database refuses nothing it accepted before.
 */
export const CATEGORY_VOCABULARY: [string, string][] = [
  ['CSAM_COMMERCIAL', 'A website that sells access to child sexual abuse material, or the material itself.'],
  ['CSAM_LIVESTREAM', 'Paid live-streamed child sexual abuse.'],
  ['CSAM_DISTRIBUTION', 'A site or service distributing child sexual abuse material without selling it.'],
  ['CSAM_ADVERTISING', 'A site, referrer or channel advertising or linking to commercial child sexual abuse sites.'],
  ['CSAM_PAYMENT_INTERMEDIARY', 'A payment flow passing money for such sites: a gateway, reseller, mixer or front merchant.'],
  ['SEXTORTION', 'Financial sexual extortion of children.'],
];

export class Categories1765200000000 implements MigrationInterface {
  name = 'Categories1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE category (
        name text PRIMARY KEY CHECK (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
        description text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by uuid REFERENCES principal(id),
        retired_at timestamptz,
        retired_by uuid REFERENCES principal(id),
        retire_reason text
      )`);
    for (const [name, description] of CATEGORY_VOCABULARY) {
      await q.query(`INSERT INTO category (name, description) VALUES ($1, $2)`, [name, description]);
    }
    await q.query(`
      INSERT INTO category (name, description)
      SELECT DISTINCT category, 'in use before the category vocabulary (kept by the upgrade)' FROM statement
       WHERE category ~ '^[A-Z][A-Z0-9_]{0,63}$'
      ON CONFLICT (name) DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE category`);
  }
}
