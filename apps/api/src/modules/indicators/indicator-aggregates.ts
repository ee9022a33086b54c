import type { EntityManager } from 'typeorm';

/**
 * Recomputes what an indicator derives from its statements, set-based, for many indicators:
 *
 * - `attestation_count`: distinct members with a supporting statement (no `exp`, or `exp` ahead);
 * - `confidence`: noisy-OR over those members, each counted once at its highest confidence:
 *   `100 × (1 − Π(1 − cᵢ/100))`, rounded (two members at 60 give 84; one at 100 gives 100);
 * - `first_seen_at` / `last_seen_at`: first and last statement received;
 * - `tlp`: the least restrictive TLP of any statement, and `open_tlp` when that is CLEAR, GREEN
 *   or AMBER; `visible_members`: issuers' members and `shareWith` of every statement;
 * - `supported_until`: the last `exp` of a supporting statement (null while one has none);
 * - `category`: the category the most supporting statements give (ties: the earliest).
 */
export async function recomputeIndicators(em: EntityManager, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await em.query(
    `WITH s AS (
       SELECT st.*, (st.expires_at IS NULL OR st.expires_at > now()) AS supporting
         FROM unnest($1::uuid[]) AS k(id) JOIN statement st ON st.indicator_id = k.id
     ),
     per_member AS (
       SELECT indicator_id, issuer_member_id, max(confidence) AS confidence
         FROM s WHERE supporting GROUP BY indicator_id, issuer_member_id
     ),
     conf AS (
       SELECT indicator_id, count(*) AS members,
              round(100 * (1 - exp(sum(ln(1 - least(confidence, 99.999) / 100.0)))))::int AS confidence,
              bool_or(confidence = 100) AS certain
         FROM per_member GROUP BY indicator_id
     ),
     cat AS (
       SELECT DISTINCT ON (indicator_id) indicator_id, category
         FROM (SELECT indicator_id, category, count(*) AS n, min(received_at) AS first FROM s GROUP BY indicator_id, category) c
        ORDER BY indicator_id, n DESC, first
     ),
     vis AS (
       SELECT indicator_id, array_agg(DISTINCT m) AS members
         FROM (SELECT indicator_id, issuer_member_id AS m FROM s UNION ALL SELECT indicator_id, unnest(share_with) FROM s) x
        GROUP BY indicator_id
     ),
     agg AS (
       SELECT indicator_id, min(received_at) AS first_seen, max(received_at) AS last_seen,
              min(array_position(ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED'], tlp)) AS tlp_rank,
              CASE WHEN bool_or(supporting AND expires_at IS NULL) THEN NULL ELSE max(expires_at) FILTER (WHERE supporting) END AS until,
              bool_or(supporting) AS supported
         FROM s GROUP BY indicator_id
     )
     UPDATE indicator i SET
       attestation_count = coalesce(conf.members, 0),
       confidence = CASE WHEN conf.certain THEN 100 ELSE coalesce(conf.confidence, 0) END,
       first_seen_at = agg.first_seen,
       last_seen_at = agg.last_seen,
       tlp = (ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED'])[agg.tlp_rank],
       open_tlp = agg.tlp_rank <= 3,
       visible_members = vis.members,
       supported_until = CASE WHEN agg.supported THEN agg.until ELSE i.supported_until END,
       category = cat.category
     FROM agg
     LEFT JOIN conf ON conf.indicator_id = agg.indicator_id
     JOIN cat ON cat.indicator_id = agg.indicator_id
     JOIN vis ON vis.indicator_id = agg.indicator_id
     WHERE i.id = agg.indicator_id`,
    [ids],
  );
}
