import type { EntityManager } from 'typeorm';
import type { Caller } from '../../common/caller.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import type { AuditService } from '../audit/audit.service.js';
import { IndicatorStatus } from './dto/indicator.enums.js';
import { recordChanges } from './indicator-changes.js';
import { INDICATOR_COLUMNS, type IndicatorRow, indicatorVisible } from './indicator.rows.js';

/** What a curator, a dispute or the clock can do to an indicator. */
export type StatusAction = 'APPROVE' | 'REJECT' | 'REVOKE' | 'EXPIRE' | 'DISPUTE' | 'UPHOLD_DISPUTE' | 'DISMISS_DISPUTE';

const { PENDING, ACTIVE, DISPUTED, REJECTED, EXPIRED, REVOKED } = IndicatorStatus;

/**
 * The state machine (README "Indicator states"): for each action, the statuses it may start from.
 * The target is fixed except for DISMISS_DISPUTE, which restores the status before the dispute.
 * Statements move indicators too (statements.service): new → ACTIVE (coordinator) or PENDING;
 * PENDING → ACTIVE on a coordinator's statement; EXPIRED → ACTIVE/PENDING on a new statement.
 */
export const TRANSITIONS: Record<StatusAction, { from: IndicatorStatus[]; to: IndicatorStatus | 'PREVIOUS' }> = {
  APPROVE: { from: [PENDING], to: ACTIVE },
  REJECT: { from: [PENDING], to: REJECTED },
  REVOKE: { from: [PENDING, ACTIVE, DISPUTED, EXPIRED], to: REVOKED },
  EXPIRE: { from: [PENDING, ACTIVE, DISPUTED], to: EXPIRED },
  DISPUTE: { from: [ACTIVE, DISPUTED], to: DISPUTED },
  UPHOLD_DISPUTE: { from: [DISPUTED], to: REVOKED },
  DISMISS_DISPUTE: { from: [DISPUTED], to: 'PREVIOUS' },
};

export interface TransitionRequest {
  indicatorId: string;
  action: StatusAction;
  caller: Caller;
  note?: string | null;
  /** Refuse with CONFLICT unless the indicator still has this status / version (two curators at once). */
  expectedStatus?: IndicatorStatus | null;
  expectedVersion?: number | null;
  /** Extra data for the audit event. */
  data?: Record<string, unknown>;
}

/**
 * Applies one status change inside the caller's transaction: locks the (visible) indicator row,
 * checks the expected status/version (CONFLICT) and the state machine (BAD_USER_INPUT naming the
 * current status), updates status and version, writes the curation history row and the audit
 * event. Nothing is ever deleted: a rejected or revoked indicator stays on record.
 */
export async function transition(em: EntityManager, audit: AuditService, request: TransitionRequest): Promise<IndicatorRow> {
  const params: unknown[] = [request.indicatorId];
  const visible = indicatorVisible(request.caller, params);
  const [row] = (await em.query(
    `SELECT ${INDICATOR_COLUMNS}, i.status_before_dispute FROM indicator i WHERE i.id = $1 AND ${visible} FOR UPDATE`,
    params,
  )) as (IndicatorRow & { status_before_dispute: string | null })[];
  if (!row) throw CordonException.notFound('indicator', 'id');
  if (request.expectedStatus && request.expectedStatus !== row.status) {
    throw new CordonException(ErrorCode.CONFLICT, `the indicator is ${row.status} now, not ${request.expectedStatus}; nothing changed`, 'expectedStatus');
  }
  if (request.expectedVersion != null && request.expectedVersion !== row.version) {
    throw new CordonException(ErrorCode.CONFLICT, `the indicator is at version ${row.version} now, not ${request.expectedVersion}; nothing changed`, 'expectedVersion');
  }
  const rule = TRANSITIONS[request.action];
  const from = row.status as IndicatorStatus;
  if (!rule.from.includes(from)) {
    throw CordonException.badInput('id', `the indicator is ${from}; ${request.action.toLowerCase().replace(/_/g, ' ')} is allowed only from ${rule.from.join(', ')}`);
  }
  const to = rule.to === 'PREVIOUS' ? ((row.status_before_dispute as IndicatorStatus | null) ?? ACTIVE) : rule.to;
  // Only a dispute remembers where the indicator was, so that dismissing it can restore that.
  const beforeDispute = request.action === 'DISPUTE' ? (from === DISPUTED ? row.status_before_dispute : from) : null;
  // TypeORM answers an UPDATE … RETURNING on PostgreSQL with [rows, affected count].
  const [[updated]] = (await em.query(
    `UPDATE indicator i SET status = $2, status_before_dispute = $3, version = i.version + CASE WHEN i.status = $2 THEN 0 ELSE 1 END,
            updated_at = now()
      WHERE i.id = $1 RETURNING ${INDICATOR_COLUMNS}`,
    [row.id, to, beforeDispute],
  )) as [IndicatorRow[], number];
  await em.query(
    `INSERT INTO curation (indicator_id, action, from_status, to_status, note, actor_principal_id) VALUES ($1, $2, $3, $4, $5, $6)`,
    [row.id, request.action, from, to, request.note ?? null, request.caller.principalId],
  );
  const event = await audit.record(em, {
    action: `indicator.${request.action.toLowerCase()}`,
    actor: request.caller,
    subjectId: row.id,
    data: { fingerprint: row.fingerprint, from, to, note: request.note ?? null, ...(request.data ?? {}) },
  });
  await recordChanges(em, event.index, [{ indicatorId: row.id, change: 'STATUS', status: to }]);
  return updated;
}

/**
 * The remedy: members that reported ACTIONED on an indicator are told when it is revoked or a
 * dispute on it is upheld, so they can reverse what they did (a notification they can query).
 */
export async function notifyActioned(em: EntityManager, indicatorId: string, kind: 'REVOKED' | 'DISPUTE_UPHELD', message: string): Promise<number> {
  const rows = (await em.query(
    `INSERT INTO notification (member_id, indicator_id, kind, message)
     SELECT DISTINCT member_id, $1::uuid, $2, $3 FROM sighting WHERE indicator_id = $1 AND kind = 'ACTIONED'
     RETURNING id`,
    [indicatorId, kind, message],
  )) as unknown[];
  return rows.length;
}
