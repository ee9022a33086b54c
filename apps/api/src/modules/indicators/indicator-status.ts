import type { StatementStatus } from './indicator-view.sql.js';

/** What a curator, a dispute or the clock can do to an indicator. */
export type StatusAction = 'APPROVE' | 'REJECT' | 'REVOKE' | 'EXPIRE' | 'DISPUTE' | 'UPHOLD_DISPUTE' | 'DISMISS_DISPUTE';

/**
 * The state machine (README "Indicator states"), per statement: each decision moves the
 * statements it applies to — for a curator every statement of the indicator, for a dispute the
 * statements the disputing member can see — from these statuses to the target. A viewer's status
 * of the indicator is the highest-ranked status among the statements it may see (STATUS_RANKS).
 * DISMISS_DISPUTE restores each statement the dispute covered once no other open dispute covers it.
 */
export const TRANSITIONS: Record<StatusAction, { from: StatementStatus[]; to: StatementStatus | 'PREVIOUS' }> = {
  APPROVE: { from: ['PENDING'], to: 'ACTIVE' },
  REJECT: { from: ['PENDING'], to: 'REJECTED' },
  REVOKE: { from: ['PENDING', 'ACTIVE', 'DISPUTED', 'EXPIRED'], to: 'REVOKED' },
  EXPIRE: { from: ['PENDING', 'ACTIVE', 'DISPUTED'], to: 'EXPIRED' },
  DISPUTE: { from: ['ACTIVE', 'DISPUTED'], to: 'DISPUTED' },
  UPHOLD_DISPUTE: { from: ['PENDING', 'ACTIVE', 'DISPUTED', 'EXPIRED'], to: 'REVOKED' },
  DISMISS_DISPUTE: { from: ['DISPUTED'], to: 'PREVIOUS' },
};

/** A statement's curation state as a decision finds it. */
export interface StatementState {
  statementId: string;
  /** the status stored */
  status: StatementStatus;
  /** the status that counts now (a passed exp makes PENDING/ACTIVE/DISPUTED EXPIRED) */
  effective: StatementStatus;
  statusBeforeDispute: 'PENDING' | 'ACTIVE' | null;
  disputedBy: string[];
}

/** A statement's state after a decision, and whether its status changed (a feed entry). */
export interface StatementMove {
  statementId: string;
  status: StatementStatus;
  statusBeforeDispute: 'PENDING' | 'ACTIVE' | null;
  disputedBy: string[];
  statusChanged: boolean;
}

/**
 * The moves of one decision over the statements it applies to (pure: the store loads the states
 * and writes the moves). `disputeId` names the dispute for DISPUTE (it then covers the statements
 * it disputes) and DISMISS_DISPUTE. Statements whose state does not change are left out.
 */
export function planTransition(action: StatusAction, states: StatementState[], disputeId?: string): StatementMove[] {
  const rule = TRANSITIONS[action];
  const moves: StatementMove[] = [];
  for (const s of states) {
    let status = s.effective;
    let before = s.statusBeforeDispute;
    let disputedBy = s.disputedBy;
    if (action === 'DISMISS_DISPUTE') {
      if (!disputeId || !disputedBy.includes(disputeId)) continue;
      disputedBy = disputedBy.filter((d) => d !== disputeId);
      if (disputedBy.length === 0 && status === 'DISPUTED') {
        status = before ?? 'ACTIVE';
        before = null;
      }
    } else if (rule.from.includes(s.effective)) {
      if (action === 'DISPUTE') {
        if (!disputeId) throw new Error('DISPUTE needs the dispute id');
        before = s.effective === 'DISPUTED' ? (before ?? 'ACTIVE') : (s.effective as 'ACTIVE');
        disputedBy = [...disputedBy, disputeId];
      } else {
        before = null;
        if (rule.to === 'REVOKED') disputedBy = [];
      }
      status = rule.to as StatementStatus;
    } else {
      continue;
    }
    const statusChanged = status !== s.status;
    if (!statusChanged && before === s.statusBeforeDispute && sameList(disputedBy, s.disputedBy)) continue;
    moves.push({ statementId: s.statementId, status, statusBeforeDispute: before, disputedBy, statusChanged });
  }
  return moves;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
