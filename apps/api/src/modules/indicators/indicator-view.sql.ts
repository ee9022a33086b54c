/**
 * The one definition of what a viewer sees of an indicator, as SQL (issue 16). Private to the
 * indicator store: every read path — indicator(s), screening, the change feed, the review queue,
 * disputes — gets these fragments through IndicatorStore, never writes its own.
 *
 * - A statement is visible to a viewer by its own TLP (SPEC 3): CLEAR, GREEN, AMBER to every
 *   member; AMBER_STRICT and RED to the issuer's member, members in its shareWith, coordinators.
 * - An indicator exists for a viewer iff one of its statements is visible to it.
 * - Everything else the viewer sees of it is computed from those statements alone (`viewSql`).
 */

/** Statement statuses, lowest rank first: a viewer's status is the highest among its visible statements. */
export const STATUS_RANKS = ['EXPIRED', 'PENDING', 'ACTIVE', 'DISPUTED', 'REJECTED', 'REVOKED'] as const;
export type StatementStatus = (typeof STATUS_RANKS)[number];
const RANKS = `ARRAY['EXPIRED','PENDING','ACTIVE','DISPUTED','REJECTED','REVOKED']`;
const TLPS = `ARRAY['CLEAR','GREEN','AMBER','AMBER_STRICT','RED']`;

/** A viewer as SQL expressions (parameters, or columns of a list of viewers). */
export interface ViewerSql {
  /** boolean: the viewer's member is a coordinator */
  coordinator: string;
  /** uuid: the viewer's member */
  member: string;
}

/** SPEC 3 for one statement (alias `s`). */
export function statementVisibleSql(viewer: ViewerSql, s = 's'): string {
  return `(${s}.tlp IN ('CLEAR', 'GREEN', 'AMBER') OR ${viewer.coordinator} OR ${s}.issuer_member_id = ${viewer.member} OR ${viewer.member} = ANY(${s}.share_with))`;
}

/**
 * A statement's rank (in STATUS_RANKS, 1-based) as of `at`: a statement past its `exp` no longer
 * supports anything — PENDING, ACTIVE or DISPUTED count as EXPIRED from that moment, before the
 * sweep records it.
 */
export function effectiveRankSql(status: string, expiresAt: string, at = 'now()'): string {
  return `(CASE WHEN ${status} IN ('PENDING', 'ACTIVE', 'DISPUTED') AND ${expiresAt} <= ${at} THEN 1 ELSE array_position(${RANKS}, ${status}) END)`;
}

export function rankToStatusSql(rank: string): string {
  return `(${RANKS})[${rank}]`;
}

/**
 * The viewer's status of indicator `indicatorId` (an SQL expression) — null when it sees no
 * statement of it. One index scan over the indicator's statements: cheap enough for every hit of
 * a screening call and every row of a filtered list.
 */
export function statusSql(viewer: ViewerSql, indicatorId: string): string {
  return `(SELECT ${rankToStatusSql(`max(${effectiveRankSql('vst.status', 'vs.expires_at')})`)}
             FROM statement vs JOIN statement_state vst ON vst.statement_id = vs.id
            WHERE vs.indicator_id = ${indicatorId} AND ${statementVisibleSql(viewer, 'vs')})`;
}

/** The indicator (an SQL expression for its id) exists for the viewer. */
export function existsSql(viewer: ViewerSql, indicatorId: string): string {
  return `EXISTS (SELECT 1 FROM statement xs WHERE xs.indicator_id = ${indicatorId} AND ${statementVisibleSql(viewer, 'xs')})`;
}

/** Matches in screening: ACTIVE and DISPUTED; PENDING too for a coordinator's curator (`pending`). */
export function matchableSql(status: string, pending: string): string {
  return `(${status} IN ('ACTIVE', 'DISPUTED') OR (${pending} AND ${status} = 'PENDING'))`;
}

/**
 * The whole view of many indicators (`ids`: an SQL uuid[] expression) for one viewer, set-based:
 *
 * - `status`: the highest-ranked status among the visible statements (README "Indicator states");
 * - supporting statements: visible ones not EXPIRED (by the sweep, a curator, or a passed exp);
 * - `attestation_count`: members with a supporting statement;
 * - `confidence`: noisy-OR over those members, each at its highest confidence:
 *   `100 × (1 − Π(1 − cᵢ/100))` (one member at 80 → 80; two at 60 → 84; anyone at 100 → 100);
 * - `category`: the category the most supporting members give (ties: most members overall, then
 *   the earliest given, then alphabetical);
 * - `tlp`: the least restrictive TLP among the visible statements;
 * - `first_seen_at` / `last_seen_at`: first and last visible statement received;
 * - `supported_until`: the last `exp` of a supporting statement (null while one has none);
 * - `version`: the changes the viewer can see (each transaction that created a visible statement or
 *   changed one's status counts once); `updated_at`: the last of them.
 *
 * Indicators the viewer sees no statement of are absent from the result.
 */
export function viewSql(viewer: ViewerSql, ids: string): string {
  const visible = statementVisibleSql(viewer, 's');
  return `WITH k AS (SELECT DISTINCT u.id FROM unnest(${ids}) AS u(id)),
     vs AS (
       SELECT s.indicator_id, s.issuer_member_id AS member, s.confidence, s.category, s.tlp, s.received_at, s.expires_at,
              ${effectiveRankSql('st.status', 's.expires_at')} AS rank
         FROM k JOIN statement s ON s.indicator_id = k.id JOIN statement_state st ON st.statement_id = s.id
        WHERE ${visible}
     ),
     per_member AS (SELECT indicator_id, member, max(confidence) AS c FROM vs WHERE rank > 1 GROUP BY 1, 2),
     conf AS (
       SELECT indicator_id, count(*)::int AS members,
              CASE WHEN bool_or(c = 100) THEN 100 ELSE round(100 * (1 - exp(sum(ln(1 - least(c, 99.999) / 100.0)))))::int END AS confidence
         FROM per_member GROUP BY 1
     ),
     cat AS (
       SELECT DISTINCT ON (indicator_id) indicator_id, category
         FROM (SELECT indicator_id, category, count(DISTINCT member) FILTER (WHERE rank > 1) AS sup, count(DISTINCT member) AS n,
                      min(received_at) AS first
                 FROM vs GROUP BY 1, 2) x
        ORDER BY indicator_id, sup DESC, n DESC, first, category
     ),
     agg AS (
       SELECT indicator_id, max(rank) AS rank, min(received_at) AS first_seen, max(received_at) AS last_seen,
              min(array_position(${TLPS}, tlp)) AS tlp_rank,
              CASE WHEN bool_or(rank > 1 AND expires_at IS NULL) THEN NULL ELSE max(expires_at) END AS supported_until
         FROM vs GROUP BY 1
     ),
     ver AS (
       SELECT c.indicator_id, count(DISTINCT c.idx)::int AS version, max(c.at) AS updated_at
         FROM k JOIN indicator_change c ON c.indicator_id = k.id JOIN statement s ON s.id = c.statement_id
        WHERE ${visible} GROUP BY 1
     )
     SELECT i.id, i.kind, i.network, i.value, i.fingerprint, ${rankToStatusSql('agg.rank')} AS status,
            coalesce(conf.confidence, 0) AS confidence, cat.category, (${TLPS})[agg.tlp_rank] AS tlp,
            coalesce(conf.members, 0) AS attestation_count, agg.first_seen AS first_seen_at, agg.last_seen AS last_seen_at,
            agg.supported_until, coalesce(ver.version, 1) AS version, coalesce(ver.updated_at, agg.last_seen) AS updated_at
       FROM agg JOIN indicator i ON i.id = agg.indicator_id JOIN cat ON cat.indicator_id = agg.indicator_id
       LEFT JOIN conf ON conf.indicator_id = agg.indicator_id LEFT JOIN ver ON ver.indicator_id = agg.indicator_id`;
}
