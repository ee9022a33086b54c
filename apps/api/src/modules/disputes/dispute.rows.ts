/** Rows of the disputes module as its queries select them. */
export interface DisputeRow {
  id: string;
  indicator_id: string;
  member_id: string;
  principal_id: string;
  reason: string;
  status: DisputeStatus;
  resolution: string | null;
  resolved_by: string | null;
  created_at: Date;
  resolved_at: Date | null;
}

export const DISPUTE_STATUSES = ['OPEN', 'UPHELD', 'REJECTED'] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export const DISPUTE_COLUMNS = `d.id, d.indicator_id, d.member_id, d.principal_id, d.reason, d.status, d.resolution, d.resolved_by,
  d.created_at, d.resolved_at`;

export interface SightingRow {
  id: string;
  indicator_id: string;
  member_id: string;
  principal_id: string;
  kind: string;
  note: string | null;
  created_at: Date;
}

export interface NotificationRow {
  id: string;
  member_id: string;
  /** null for a notification about no indicator (WEBHOOK_DISABLED) */
  indicator_id: string | null;
  kind: string;
  message: string;
  created_at: Date;
  read_at: Date | null;
}

export interface SightingCountRow {
  indicator_id: string;
  seen: number;
  false_positive: number;
  actioned: number;
}
