import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type Caller, hasRole, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import { preparedQuery } from '../../common/prepared.js';
import { Role } from '../../common/roles.js';
import type { Tx } from '../audit/transactions.js';
import { planTransition, type StatementState, type StatusAction, TRANSITIONS } from './indicator-status.js';
import {
  effectiveRankSql,
  existsSql,
  matchableSql,
  rankToStatusSql,
  type StatementStatus,
  statementVisibleSql,
  statusSql,
  type ViewerSql,
  viewSql,
} from './indicator-view.sql.js';
import type { IndicatorSummary, IndicatorView, SiteRow, StatementRow } from './indicator.rows.js';

/** Runs a query: the data source (a statement of its own) or a transaction. */
type Runner = { query: (sql: string, params?: unknown[]) => Promise<unknown> };

export const CHANGES_CHANNEL = 'cordon_changes';

export interface IndicatorFilterValues {
  kind?: string;
  status?: string;
  network?: string;
  memberId?: string;
  updatedSince?: Date;
}

/** A position in a viewer's feed or list: an audit index and an indicator id. */
export interface FeedPosition {
  idx: string;
  id: string;
}

export interface ChangeRow {
  idx: string;
  indicator_id: string;
  change: 'CREATED' | 'ATTESTED' | 'STATUS';
  status: StatementStatus;
  at: Date;
}

export interface TransitionRequest {
  indicatorId: string;
  action: StatusAction;
  note?: string | null;
  /** Refuse with CONFLICT unless the caller still sees this status / version (two curators at once). */
  expectedStatus?: string | null;
  expectedVersion?: number | null;
  /** DISPUTE and DISMISS_DISPUTE: the dispute. */
  disputeId?: string;
  /** Extra data for the audit event. */
  data?: Record<string, unknown>;
}

export interface TransitionResult {
  before: IndicatorView;
  after: IndicatorView;
  /** statements whose status changed */
  changed: string[];
}

/** Statuses of a statement that some viewer could match (SPEC 5: PENDING for curators), as SQL. */
const LISTED_SQL = `'PENDING', 'ACTIVE', 'DISPUTED'`;

const NO_POSITION: FeedPosition = { idx: '-1', id: '00000000-0000-0000-0000-000000000000' };

/** A caller as parameters (appended to `params`) for the view's SQL. */
function viewerParams(caller: Caller, params: unknown[]): ViewerSql {
  params.push(isCoordinator(caller), caller.memberId);
  return { coordinator: `$${params.length - 1}::boolean`, member: `$${params.length}::uuid` };
}

/** Curators of a coordinator member also match PENDING indicators in screening (SPEC 5). */
export function seesPending(caller: Caller): boolean {
  return isCoordinator(caller) && hasRole(caller, Role.CURATOR);
}

/**
 * The indicator store (issue 16): the only writer of `indicator`, `statement_state` (each
 * statement's curation state), `indicator_change` (the feed, per statement) and `curation` (the
 * decisions), and the only place that knows what a viewer may see — every read scoped to a viewer
 * goes through it, and its visibility predicate (indicator-view.sql.ts) is nowhere else. Other
 * modules call it; they embed its scoped fragments (`visibleSql`, `sharedEvidenceSql`) in their
 * own queries where they need "an indicator this caller may see".
 */
@Injectable()
export class IndicatorStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  // ─── reads, per viewer ────────────────────────────────────────────────────────────────────────

  /** The viewer's view of these indicators (absent: it sees no statement of one). */
  async views(caller: Caller, ids: readonly string[], runner: Runner = this.dataSource): Promise<IndicatorView[]> {
    if (ids.length === 0) return [];
    const params: unknown[] = [ids];
    const sql = viewSql(viewerParams(caller, params), '$1::uuid[]');
    return (await runner.query(sql, params)) as IndicatorView[];
  }

  async view(caller: Caller, id: string, runner: Runner = this.dataSource): Promise<IndicatorView | undefined> {
    return (await this.views(caller, [id], runner))[0];
  }

  /** Views by fingerprint (those the viewer may see). */
  async viewsByFingerprint(caller: Caller, fingerprints: readonly string[], runner: Runner = this.dataSource): Promise<IndicatorView[]> {
    const rows = (await runner.query('SELECT id FROM indicator WHERE fingerprint = ANY($1::text[])', [fingerprints])) as { id: string }[];
    return this.views(
      caller,
      rows.map((r) => r.id),
      runner,
    );
  }

  /**
   * A page of the indicators the viewer sees, ordered by the viewer's last change of each (the
   * audit index of the last transaction that touched a statement it sees), then id.
   */
  async list(
    caller: Caller,
    filter: IndicatorFilterValues,
    first: number,
    after?: FeedPosition,
  ): Promise<{ rows: (IndicatorView & { position: FeedPosition })[]; hasNextPage: boolean }> {
    const params: unknown[] = [];
    const viewer = viewerParams(caller, params);
    const where = [statementVisibleSql(viewer, 's')];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    const from = after ?? NO_POSITION;
    params.push(from.idx, from.id);
    where.push(`(c.idx, c.indicator_id) > ($${params.length - 1}::bigint, $${params.length}::uuid)`);
    // The last change of the indicator the viewer can see: no later visible change of it.
    where.push(`NOT EXISTS (SELECT 1 FROM indicator_change c2 JOIN statement s2 ON s2.id = c2.statement_id
                  WHERE c2.indicator_id = c.indicator_id AND c2.idx > c.idx AND ${statementVisibleSql(viewer, 's2')})`);
    if (filter.kind) add((n) => `i.kind = $${n}`, filter.kind);
    if (filter.network !== undefined) add((n) => `i.network = $${n}`, filter.network);
    if (filter.updatedSince) add((n) => `c.at >= $${n}`, filter.updatedSince);
    if (filter.status) add((n) => `${statusSql(viewer, 'c.indicator_id')} = $${n}`, filter.status);
    if (filter.memberId) {
      // Indicators the member attested with a statement the viewer may see.
      add(
        (n) => `EXISTS (SELECT 1 FROM statement ms WHERE ms.indicator_id = c.indicator_id AND ms.issuer_member_id = $${n}::uuid
                 AND ${statementVisibleSql(viewer, 'ms')})`,
        filter.memberId,
      );
    }
    params.push(first + 1);
    const found = (await this.dataSource.query(
      `SELECT DISTINCT c.idx, c.indicator_id AS id
         FROM indicator_change c JOIN statement s ON s.id = c.statement_id JOIN indicator i ON i.id = c.indicator_id
        WHERE ${where.join(' AND ')}
        ORDER BY c.idx, id LIMIT $${params.length}`,
      params,
    )) as { idx: string | number; id: string }[];
    const page = found.slice(0, first).map((p) => ({ idx: String(p.idx), id: p.id }));
    const byId = new Map((await this.views(caller, page.map((p) => p.id))).map((v) => [v.id, v]));
    return {
      rows: page.filter((p) => byId.has(p.id)).map((p) => Object.assign(byId.get(p.id)!, { position: p })),
      hasNextPage: found.length > first,
    };
  }

  /**
   * The review queue: indicators with a statement waiting for a decision (PENDING, its exp not
   * passed) that the caller may see, oldest waiting first.
   */
  async queue(
    caller: Caller,
    first: number,
    after?: { micros: string; id: string },
  ): Promise<{ rows: (IndicatorView & { since_us: string })[]; hasNextPage: boolean }> {
    const params: unknown[] = [];
    const viewer = viewerParams(caller, params);
    let having = '';
    if (after) {
      params.push(after.micros, after.id);
      having = `HAVING (min(s.received_at), st.indicator_id) > ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`;
    }
    params.push(first + 1);
    const found = (await this.dataSource.query(
      `SELECT st.indicator_id AS id, (extract(epoch FROM min(s.received_at)) * 1000000)::bigint::text AS since_us
         FROM statement_state st JOIN statement s ON s.id = st.statement_id
        WHERE st.status = 'PENDING' AND (s.expires_at IS NULL OR s.expires_at > now()) AND ${statementVisibleSql(viewer, 's')}
        GROUP BY st.indicator_id ${having}
        ORDER BY min(s.received_at), st.indicator_id LIMIT $${params.length}`,
      params,
    )) as { id: string; since_us: string }[];
    const page = found.slice(0, first);
    const byId = new Map((await this.views(caller, page.map((p) => p.id))).map((v) => [v.id, v]));
    return {
      rows: page.filter((p) => byId.has(p.id)).map((p) => Object.assign(byId.get(p.id)!, { since_us: p.since_us })),
      hasNextPage: found.length > first,
    };
  }

  /**
   * The viewer's change feed: one entry per (transaction, indicator) that created a statement the
   * viewer may see or changed one's status, in audit-index order. `change` is CREATED for the first
   * statement the viewer sees of the indicator, ATTESTED for a later one, STATUS otherwise; `status`
   * is the viewer's status of the indicator as that transaction left it.
   */
  async feed(caller: Caller, first: number, after?: FeedPosition, runner: Runner = this.dataSource): Promise<{ rows: ChangeRow[]; hasNextPage: boolean }> {
    const params: unknown[] = [];
    const viewer = viewerParams(caller, params);
    const from = after ?? NO_POSITION;
    params.push(from.idx, from.id, first + 1);
    const n = params.length;
    const rows = (await runner.query(
      `WITH e AS (
         SELECT c.idx, c.indicator_id, bool_or(c.change = 'CREATED') AS created_here, max(c.at) AS at
           FROM indicator_change c JOIN statement s ON s.id = c.statement_id
          WHERE (c.idx, c.indicator_id) > ($${n - 2}::bigint, $${n - 1}::uuid) AND ${statementVisibleSql(viewer, 's')}
          GROUP BY c.idx, c.indicator_id
          ORDER BY c.idx, c.indicator_id
          LIMIT $${n}
       )
       SELECT e.idx::text AS idx, e.indicator_id, e.at,
              CASE WHEN NOT e.created_here THEN 'STATUS'
                   WHEN EXISTS (SELECT 1 FROM indicator_change p JOIN statement ps ON ps.id = p.statement_id
                                 WHERE p.indicator_id = e.indicator_id AND p.idx < e.idx AND ${statementVisibleSql(viewer, 'ps')}) THEN 'ATTESTED'
                   ELSE 'CREATED' END AS change,
              (SELECT ${rankToStatusSql(`max(${effectiveRankSql('h.status', 'hs.expires_at', 'e.at')})`)}
                 FROM statement hs
                 CROSS JOIN LATERAL (SELECT h1.status FROM indicator_change h1
                                      WHERE h1.statement_id = hs.id AND h1.idx <= e.idx ORDER BY h1.idx DESC LIMIT 1) h
                WHERE hs.indicator_id = e.indicator_id AND ${statementVisibleSql(viewer, 'hs')}) AS status
         FROM e ORDER BY e.idx, e.indicator_id`,
      params,
    )) as ChangeRow[];
    return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
  }

  /** The feed position after everything committed so far (a subscriber that starts now). */
  async latestPosition(): Promise<FeedPosition> {
    const [row] = (await this.dataSource.query(`SELECT max(idx)::text AS idx FROM indicator_change`)) as { idx: string | null }[];
    return row.idx === null ? NO_POSITION : { idx: row.idx, id: 'ffffffff-ffff-ffff-ffff-ffffffffffff' };
  }

  /** The statements of these indicators the viewer may see, oldest first, each with its own status. */
  async statementsOf(caller: Caller, indicatorIds: readonly string[]): Promise<StatementRow[]> {
    return this.statementRows(caller, 's.indicator_id = ANY($1::uuid[])', indicatorIds);
  }

  async statementsById(caller: Caller, ids: readonly string[]): Promise<StatementRow[]> {
    return this.statementRows(caller, 's.id = ANY($1::uuid[])', ids);
  }

  private async statementRows(caller: Caller, where: string, ids: readonly string[]): Promise<StatementRow[]> {
    const params: unknown[] = [ids];
    const visible = statementVisibleSql(viewerParams(caller, params), 's');
    return (await this.dataSource.query(
      `SELECT s.id, s.indicator_id, s.issuer_principal_id, s.issuer_member_id, s.kid, s.jti, s.jws, s.sha256, s.issued_at,
              s.expires_at, s.category, s.confidence, s.tlp, s.share_with, s.received_at, r.receipt, r.audit_index::text AS audit_index,
              ${rankToStatusSql(effectiveRankSql('st.status', 's.expires_at'))} AS status,
              ARRAY(SELECT ss.fingerprint FROM statement_site ss WHERE ss.statement_id = s.id ORDER BY ss.position) AS site_fingerprints
         FROM statement s JOIN statement_receipt r ON r.statement_id = s.id JOIN statement_state st ON st.statement_id = s.id
        WHERE ${where} AND ${visible}
        ORDER BY s.received_at, s.id`,
      params,
    )) as StatementRow[];
  }

  /**
   * The latest curator decision on each of these statements (review, revocation, expiry) with its
   * note — what the statement's own member is told. Dispute outcomes are not among them: a note
   * resolving a dispute is for the disputant only.
   */
  async reviewsOf(statements: readonly { id: string; indicatorId: string }[]): Promise<{ statement_id: string; action: string; to_status: string; note: string | null; at: Date }[]> {
    if (statements.length === 0) return [];
    return (await this.dataSource.query(
      `SELECT DISTINCT ON (s.id) s.id AS statement_id, c.action, c.to_status, c.note, c.at
         FROM unnest($1::uuid[], $2::uuid[]) AS s(id, indicator_id)
         JOIN curation c ON c.indicator_id = s.indicator_id AND s.id = ANY(c.statement_ids)
        WHERE c.action IN ('APPROVE', 'REJECT', 'REVOKE', 'EXPIRE')
        ORDER BY s.id, c.at DESC`,
      [statements.map((s) => s.id), statements.map((s) => s.indicatorId)],
    )) as { statement_id: string; action: string; to_status: string; note: string | null; at: Date }[];
  }

  /** Reported sites linked through the statements of these indicators the viewer may see. */
  async sitesOf(caller: Caller, indicatorIds: readonly string[]): Promise<SiteRow[]> {
    const params: unknown[] = [indicatorIds];
    const visible = statementVisibleSql(viewerParams(caller, params), 's');
    return (await this.dataSource.query(
      `SELECT DISTINCT ON (s.indicator_id, ss.fingerprint) s.indicator_id, ss.fingerprint, ss.url
         FROM statement s JOIN statement_site ss ON ss.statement_id = s.id
        WHERE s.indicator_id = ANY($1::uuid[]) AND ${visible}
        ORDER BY s.indicator_id, ss.fingerprint`,
      params,
    )) as SiteRow[];
  }

  /** SQL: the indicator `indicatorId` (an expression) exists for the caller; appends its parameters. */
  visibleSql(caller: Caller, params: unknown[], indicatorId: string): string {
    return existsSql(viewerParams(caller, params), indicatorId);
  }

  /**
   * SQL: a statement of `indicatorId` received at or before `at` is visible both to the caller and
   * to the member `member` (coordinator when `memberIsCoordinator`) — what a sighting or other
   * feedback by that member rests on, so that the caller counts only feedback given on evidence it
   * sees itself (feedback resting on a statement hidden from the caller changes nothing it sees).
   */
  sharedEvidenceSql(caller: Caller, params: unknown[], refs: { indicatorId: string; member: string; memberIsCoordinator: string; at: string }): string {
    const viewer = viewerParams(caller, params);
    return `EXISTS (SELECT 1 FROM statement es WHERE es.indicator_id = ${refs.indicatorId} AND es.received_at <= ${refs.at}
              AND ${statementVisibleSql(viewer, 'es')}
              AND ${statementVisibleSql({ coordinator: refs.memberIsCoordinator, member: refs.member }, 'es')})`;
  }

  // ─── screening ───────────────────────────────────────────────────────────────────────────────

  /**
   * SQL for screening's lookups: for the key row `k` (its fingerprint and its caller's columns), a
   * LATERAL that finds the indicator with that fingerprint and the caller's status of it, kept only
   * when that status matches (SPEC 5). One index probe per key; the status (one scan of the
   * indicator's statements) only for the keys that exist.
   */
  matchLateralSql(k: { fingerprint: string; coordinator: string; member: string; pending: string }): string {
    const viewer = { coordinator: k.coordinator, member: k.member };
    return `CROSS JOIN LATERAL (
              SELECT i.id, i.kind, i.network, i.value, i.fingerprint, ${statusSql(viewer, 'i.id')} AS status
                FROM indicator i WHERE i.fingerprint = ${k.fingerprint} LIMIT 1) m
            WHERE ${matchableSql('m.status', k.pending)}`;
  }

  /** The matching indicators of `fingerprints` (by 1-based position) for one caller. */
  async matches(caller: Caller, fingerprints: string): Promise<{ head: number; rows: (IndicatorSummary & { position: number })[] }> {
    const params: unknown[] = [fingerprints, seesPending(caller)];
    const viewer = viewerParams(caller, params);
    const rows = await preparedQuery<IndicatorSummary & { position: number | null; head: string }>(
      this.dataSource,
      // One index probe per key, whatever the planner thinks of the table: a join on unnest (or
      // `= ANY`) with thousands of keys is often planned as a hash join over a sequential scan of
      // millions of rows; a LATERAL subquery with LIMIT 1 (fingerprints are unique) cannot be.
      // The feed's head comes from the same snapshot (screening's index is checked against it).
      `SELECT h.head, f.* FROM (SELECT ${this.headSql} AS head) h LEFT JOIN LATERAL (
         SELECT k.position::int AS position, m.* FROM unnest($1::text[]) WITH ORDINALITY AS k(fingerprint, position)
          ${this.matchLateralSql({ fingerprint: 'k.fingerprint', pending: '$2::boolean', ...viewer })}) f ON true`,
      params,
    );
    const head = Number(rows[0].head);
    return { head, rows: rows.filter((r) => r.position !== null).map(({ head: _, ...row }) => row as IndicatorSummary & { position: number }) };
  }

  // ─── screening's index of listed fingerprints (issue 19) ──────────────────────────────────────

  /**
   * SQL (a scalar text): the feed's head — the audit index of the latest committed change, -1 when
   * none. Audit indexes are taken under the audit_head lock held to commit, so every change at or
   * below a head read in some snapshot is committed and visible in it.
   */
  readonly headSql = `(SELECT coalesce(max(idx), -1) FROM indicator_change)::text`;

  async head(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT ${this.headSql} AS head`)) as { head: string }[];
    return Number(row.head);
  }

  /** How many indicators exist (an upper bound for the listed ones, to size the index). */
  async indicatorCount(): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT count(*)::bigint::text AS n FROM indicator`)) as { n: string }[];
    return Number(row.n);
  }

  /**
   * One page of the listed fingerprints — of indicators with a statement any viewer could match
   * (PENDING, ACTIVE or DISPUTED) — after `after` in fingerprint order: their 8-byte prefixes,
   * packed big-endian, and the last fingerprint (null past the end).
   */
  async listedPage(after: string, limit: number): Promise<{ last: string | null; prefixes: Buffer; count: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT max(p.fingerprint) AS last, count(*)::int AS count,
              coalesce(decode(string_agg(substr(p.fingerprint, 1, 16), '' ORDER BY p.fingerprint), 'hex'), '\\x'::bytea) AS prefixes
         FROM (SELECT i.fingerprint FROM indicator i
                WHERE i.fingerprint > $1
                  AND EXISTS (SELECT 1 FROM statement_state st WHERE st.indicator_id = i.id AND st.status IN (${LISTED_SQL}))
                ORDER BY i.fingerprint LIMIT $2) p`,
      [after, limit],
    )) as { last: string | null; prefixes: Buffer; count: number }[];
    return row;
  }

  /**
   * What the index must add after `after`: the fingerprints of indicators whose statements became
   * matchable in a change past it, and the head they bring the index to (one snapshot).
   */
  async listedSince(after: number): Promise<{ head: number; fingerprints: string[] }> {
    const [row] = (await this.dataSource.query(
      `SELECT ${this.headSql} AS head,
              ARRAY(SELECT DISTINCT i.fingerprint FROM indicator_change c JOIN indicator i ON i.id = c.indicator_id
                     WHERE c.idx > $1 AND c.status IN (${LISTED_SQL})) AS fingerprints`,
      [after],
    )) as { head: string; fingerprints: string[] }[];
    return { head: Number(row.head), fingerprints: row.fingerprints };
  }

  /** SPEC 5 k-anonymity: fingerprints and the caller's statuses of matching indicators in a prefix range. */
  async prefixBucket(caller: Caller, from: string, to: string): Promise<{ fingerprint: string; status: string }[]> {
    const params: unknown[] = [from, to, seesPending(caller)];
    const viewer = viewerParams(caller, params);
    return (await this.dataSource.query(
      `SELECT m.fingerprint, m.status FROM (
         SELECT i.fingerprint, ${statusSql(viewer, 'i.id')} AS status FROM indicator i WHERE i.fingerprint >= $1 AND i.fingerprint < $2) m
        WHERE ${matchableSql('m.status', '$3::boolean')}
        ORDER BY m.fingerprint`,
      params,
    )) as { fingerprint: string; status: string }[];
  }

  // ─── writes ──────────────────────────────────────────────────────────────────────────────────

  /**
   * The indicators of these identities, created where missing (identity only: everything else is
   * derived per viewer). Rows are taken in fingerprint order, so concurrent batches lock shared
   * indicators in the same order; the lock (held to commit) orders statements and decisions on one
   * indicator.
   */
  async identify(
    tx: Tx,
    identities: { kind: string; network: string; value: string; fingerprint: string }[],
  ): Promise<Map<string, { id: string; created: boolean }>> {
    const unique = [...new Map(identities.map((i) => [i.fingerprint, i])).values()].sort((a, b) =>
      a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0,
    );
    const rows = await tx.query<{ id: string; fingerprint: string; created: boolean }>(
      `INSERT INTO indicator (kind, network, value, fingerprint)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
       ON CONFLICT (fingerprint) DO UPDATE SET kind = EXCLUDED.kind
       RETURNING id, fingerprint, (xmax = 0) AS created`,
      [unique.map((i) => i.kind), unique.map((i) => i.network), unique.map((i) => i.value), unique.map((i) => i.fingerprint)],
    );
    return new Map(rows.map((r) => [r.fingerprint, { id: r.id, created: r.created }]));
  }

  /**
   * The curation state of newly stored statements: ACTIVE at once for a coordinator member's,
   * PENDING (until a curator decides) for everyone else's — whatever other statements of the same
   * indicator say (a curator's decision applies to what the curator reviewed).
   */
  async addStatements(tx: Tx, statements: { statementId: string; indicatorId: string; coordinator: boolean }[]): Promise<void> {
    if (statements.length === 0) return;
    await tx.query(
      `INSERT INTO statement_state (statement_id, indicator_id, status)
       SELECT u.s, u.i, CASE WHEN u.c THEN 'ACTIVE' ELSE 'PENDING' END FROM unnest($1::uuid[], $2::uuid[], $3::boolean[]) AS u(s, i, c)`,
      [statements.map((s) => s.statementId), statements.map((s) => s.indicatorId), statements.map((s) => s.coordinator)],
    );
  }

  /** The feed rows of statements added in this transaction (after its audit event: `auditIndex`). */
  async recordAdded(tx: Tx, auditIndex: number, statements: { statementId: string; indicatorId: string; coordinator: boolean }[], at: Date): Promise<void> {
    if (statements.length === 0) return;
    await tx.query(
      `INSERT INTO indicator_change (idx, indicator_id, statement_id, change, status, at)
       SELECT $1, u.i, u.s, 'CREATED', CASE WHEN u.c THEN 'ACTIVE' ELSE 'PENDING' END, $5
         FROM unnest($2::uuid[], $3::uuid[], $4::boolean[]) AS u(s, i, c)`,
      [auditIndex, statements.map((s) => s.statementId), statements.map((s) => s.indicatorId), statements.map((s) => s.coordinator), at],
    );
    await this.notify(tx, auditIndex);
  }

  /**
   * Locks the indicator for a change in this transaction (the lock every decision, dispute and
   * statement on it takes first, so they serialise) and answers the caller's view of it;
   * NOT_FOUND — as for an id that never existed — when the caller sees none of it.
   */
  async lockVisible(tx: Tx, indicatorId: string, field = 'id'): Promise<IndicatorView> {
    const [locked] = await tx.query<{ id: string }>(`SELECT id FROM indicator WHERE id = $1 FOR UPDATE`, [indicatorId]);
    const view = locked ? await this.view(tx.actor, locked.id, tx) : undefined;
    if (!view) throw CordonException.notFound('indicator', field);
    return view;
  }

  /**
   * One decision on one indicator, inside the caller's transaction: locks the indicator, reads the
   * caller's view (NOT_FOUND when it sees none of it; CONFLICT on a stale expectation), moves the
   * statements the decision applies to — every statement for a coordinator's decision, the
   * statements the disputing member sees for a dispute — and writes their state, the feed rows, the
   * curation row and the audit event. BAD_USER_INPUT, naming the caller's status, when the decision
   * applies to nothing.
   */
  async transition(tx: Tx, request: TransitionRequest): Promise<TransitionResult> {
    const caller = tx.actor;
    const [locked] = await tx.query<{ id: string; fingerprint: string }>(`SELECT id, fingerprint FROM indicator WHERE id = $1 FOR UPDATE`, [
      request.indicatorId,
    ]);
    const before = locked ? await this.view(caller, locked.id, tx) : undefined;
    if (!locked || !before) throw CordonException.notFound('indicator', 'id');
    if (request.expectedStatus && request.expectedStatus !== before.status) {
      throw new CordonException(ErrorCode.CONFLICT, `the indicator is ${before.status} now, not ${request.expectedStatus}; nothing changed`, 'expectedStatus');
    }
    if (request.expectedVersion != null && request.expectedVersion !== before.version) {
      throw new CordonException(ErrorCode.CONFLICT, `the indicator is at version ${before.version} now, not ${request.expectedVersion}; nothing changed`, 'expectedVersion');
    }
    const rule = TRANSITIONS[request.action];
    const refuse = () =>
      CordonException.badInput('id', `the indicator is ${before.status}; ${request.action.toLowerCase().replace(/_/g, ' ')} is allowed only from ${rule.from.join(', ')}`);
    const params: unknown[] = [locked.id];
    const visible = statementVisibleSql(viewerParams(caller, params), 's');
    const states = await tx.query<StatementState>(
      `SELECT st.statement_id AS "statementId", st.status, ${rankToStatusSql(effectiveRankSql('st.status', 's.expires_at'))} AS effective,
              st.status_before_dispute AS "statusBeforeDispute", st.disputed_by::text[] AS "disputedBy"
         FROM statement_state st JOIN statement s ON s.id = st.statement_id
        WHERE st.indicator_id = $1 AND ${visible}
        ORDER BY s.received_at, s.id
          FOR UPDATE OF st`,
      params,
    );
    const moves = planTransition(request.action, states, request.disputeId);
    const changed = moves.filter((m) => m.statusChanged);
    // Each statement moves by its own status alone (so one a viewer cannot see never decides what
    // happens to those it can); a decision that moves none is refused. A dispute moves the ACTIVE
    // or DISPUTED statements the disputing member sees (one already DISPUTED gains a dispute).
    if (request.action === 'DISPUTE' ? moves.length === 0 : changed.length === 0 && request.action !== 'DISMISS_DISPUTE') throw refuse();
    if (moves.length > 0) {
      await tx.query(
        `UPDATE statement_state st SET status = u.status, status_before_dispute = u.before, disputed_by = string_to_array(u.disputed, ',')::uuid[]
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(id, status, before, disputed) WHERE st.statement_id = u.id`,
        [moves.map((m) => m.statementId), moves.map((m) => m.status), moves.map((m) => m.statusBeforeDispute), moves.map((m) => m.disputedBy.join(','))],
      );
    }
    const statusParams: unknown[] = [locked.id];
    const [{ status: to }] = await tx.query<{ status: StatementStatus }>(
      `SELECT ${statusSql(viewerParams(caller, statusParams), '$1::uuid')} AS status`,
      statusParams,
    );
    await tx.query(
      `INSERT INTO curation (indicator_id, action, from_status, to_status, note, actor_principal_id, statement_ids, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::uuid[], $8)`,
      [locked.id, request.action, before.status, to, request.note ?? null, caller.principalId, moves.map((m) => m.statementId), this.clock.now()],
    );
    const event = await tx.record({
      action: `indicator.${request.action.toLowerCase()}`,
      subjectId: locked.id,
      data: {
        fingerprint: locked.fingerprint,
        from: before.status,
        to,
        note: request.note ?? null,
        statements: changed.map((m) => m.statementId),
        ...(request.data ?? {}),
      },
    });
    if (changed.length > 0) await this.recordStatus(tx, event.index, locked.id, changed);
    return { before, after: (await this.view(caller, locked.id, tx))!, changed: changed.map((m) => m.statementId) };
  }

  /**
   * The clock's part of the state machine: statements whose `exp` has passed and that are still
   * PENDING, ACTIVE or DISPUTED become EXPIRED (reads already count them so; this records it in the
   * feed). Locked rows are skipped and caught by the next sweep.
   */
  async sweepExpired(tx: Tx, limit: number): Promise<{ statementId: string; indicatorId: string }[]> {
    const rows = await tx.query<{ statementId: string; indicatorId: string }>(
      `WITH due AS (
         SELECT st.statement_id FROM statement_state st JOIN statement s ON s.id = st.statement_id
          WHERE st.status IN ('PENDING', 'ACTIVE', 'DISPUTED') AND s.expires_at <= now()
          ORDER BY s.expires_at, s.id LIMIT $1
            FOR UPDATE OF st SKIP LOCKED
       )
       UPDATE statement_state st SET status = 'EXPIRED' FROM due WHERE st.statement_id = due.statement_id
       RETURNING st.statement_id AS "statementId", st.indicator_id AS "indicatorId"`,
      [limit],
    );
    if (rows.length === 0) return [];
    const event = await tx.record({
      action: 'indicator.expire_sweep',
      actor: null,
      subjectId: null,
      data: { statementIds: rows.map((r) => r.statementId).sort(), indicatorIds: [...new Set(rows.map((r) => r.indicatorId))].sort() },
    });
    await tx.query(
      `INSERT INTO indicator_change (idx, indicator_id, statement_id, change, status, at)
       SELECT $1, u.i, u.s, 'STATUS', 'EXPIRED', $4 FROM unnest($2::uuid[], $3::uuid[]) AS u(s, i)`,
      [event.index, rows.map((r) => r.statementId), rows.map((r) => r.indicatorId), this.clock.now()],
    );
    await this.notify(tx, event.index);
    return rows;
  }

  private async recordStatus(tx: Tx, auditIndex: number, indicatorId: string, moves: { statementId: string; status: string }[]): Promise<void> {
    await tx.query(
      `INSERT INTO indicator_change (idx, indicator_id, statement_id, change, status, at)
       SELECT $1, $2, u.s, 'STATUS', u.status, $5 FROM unnest($3::uuid[], $4::text[]) AS u(s, status)`,
      [auditIndex, indicatorId, moves.map((m) => m.statementId), moves.map((m) => m.status), this.clock.now()],
    );
    await this.notify(tx, auditIndex);
  }

  /** Delivered on commit to every API process listening (ChangeStream): no in-memory-only pub/sub. */
  private async notify(tx: Tx, auditIndex: number): Promise<void> {
    await tx.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [String(auditIndex)]);
  }
}

