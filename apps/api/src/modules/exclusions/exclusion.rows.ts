/** An exclusion row as the queries return it. */
export interface ExclusionRow {
  id: string;
  kind: string;
  network: string;
  value: string;
  fingerprint: string;
  reason: string;
  created_by: string;
  created_at: Date;
  removed_at: Date | null;
  removed_by: string | null;
}

export const EXCLUSION_COLUMNS = 'id, kind, network, value, fingerprint, reason, created_by, created_at, removed_at, removed_by';
