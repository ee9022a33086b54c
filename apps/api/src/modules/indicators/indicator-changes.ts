import type { EntityManager } from 'typeorm';

export type ChangeKind = 'CREATED' | 'ATTESTED' | 'STATUS';

/** Appends change-feed rows, keyed by the audit index of the transaction that made them. */
export async function recordChanges(
  em: EntityManager,
  auditIndex: number,
  changes: { indicatorId: string; change: ChangeKind; status: string }[],
): Promise<void> {
  if (changes.length === 0) return;
  await em.query(
    `INSERT INTO indicator_change (idx, indicator_id, change, status)
     SELECT $1, u.id, u.change, u.status FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(id, change, status)
     ON CONFLICT (idx, indicator_id) DO NOTHING`,
    [auditIndex, changes.map((c) => c.indicatorId), changes.map((c) => c.change), changes.map((c) => c.status)],
  );
  // Delivered on commit to every API process listening (see ChangeStream): no in-memory-only pub/sub.
  await em.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [String(auditIndex)]);
}

export const CHANGES_CHANNEL = 'cordon_changes';
