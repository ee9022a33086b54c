import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (README "Webhooks"): endpoints registered by an administrator for a member's principal;
 * an outbox of deliveries (each with the idempotency id receivers deduplicate on) and a log of
 * every attempt. A notification may now be about no indicator (WEBHOOK_DISABLED).
 */
export class Webhooks1765300000000 implements MigrationInterface {
  name = 'Webhooks1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        principal_id uuid NOT NULL REFERENCES principal (id),
        member_id uuid NOT NULL REFERENCES member (id),
        url text NOT NULL,
        description text,
        events text[] NOT NULL CHECK (events <@ ARRAY['NOTIFICATION', 'CHANGE'] AND cardinality(events) > 0),
        created_at timestamptz NOT NULL,
        created_by uuid NOT NULL REFERENCES principal (id),
        disabled_at timestamptz,
        disabled_reason text,
        disabled_by uuid REFERENCES principal (id),
        feed_idx bigint NOT NULL,
        feed_id uuid NOT NULL,
        consecutive_failures int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        leased_until timestamptz,
        lease_token uuid
      )`);
    await q.query(`CREATE INDEX webhook_member_idx ON webhook (member_id)`);
    await q.query(`
      CREATE TABLE webhook_delivery (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhook (id),
        seq bigserial NOT NULL,
        event_type text NOT NULL CHECK (event_type IN ('NOTIFICATION', 'CHANGE')),
        event jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        attempts int NOT NULL DEFAULT 0,
        last_attempt_at timestamptz,
        last_status int,
        last_error text,
        delivered_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_delivery_pending_idx ON webhook_delivery (webhook_id, seq) WHERE delivered_at IS NULL`);
    await q.query(`CREATE INDEX webhook_delivery_log_idx ON webhook_delivery (webhook_id, seq DESC)`);
    await q.query(`
      CREATE TABLE webhook_attempt (
        delivery_id uuid NOT NULL REFERENCES webhook_delivery (id),
        attempt int NOT NULL,
        at timestamptz NOT NULL,
        status int,
        error text,
        duration_ms int NOT NULL,
        PRIMARY KEY (delivery_id, attempt)
      )`);
    await q.query(`ALTER TABLE notification ALTER COLUMN indicator_id DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM notification WHERE indicator_id IS NULL`);
    await q.query(`ALTER TABLE notification ALTER COLUMN indicator_id SET NOT NULL`);
    await q.query(`DROP TABLE webhook_attempt`);
    await q.query(`DROP TABLE webhook_delivery`);
    await q.query(`DROP TABLE webhook`);
  }
}
