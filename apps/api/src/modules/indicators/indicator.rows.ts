import type { StatementStatus } from './indicator-view.sql.js';

/** An indicator as one viewer sees it (IndicatorStore.views): every field from that viewer's statements. */
export interface IndicatorView {
  id: string;
  kind: string;
  network: string;
  value: string;
  fingerprint: string;
  status: StatementStatus;
  category: string;
  confidence: number;
  tlp: string;
  attestation_count: number;
  first_seen_at: Date;
  last_seen_at: Date;
  supported_until: Date | null;
  version: number;
  updated_at: Date;
}

/** What every path knows of an indicator at least: its identity, and the viewer's status of it. */
export type IndicatorSummary = Pick<IndicatorView, 'id' | 'kind' | 'network' | 'value' | 'fingerprint' | 'status'>;

/** A statement as a viewer may see it, with its own curation status. */
export interface StatementRow {
  id: string;
  indicator_id: string;
  issuer_principal_id: string;
  issuer_member_id: string;
  kid: string;
  jti: string;
  jws: string;
  sha256: string;
  issued_at: Date;
  expires_at: Date | null;
  category: string;
  confidence: number;
  tlp: string;
  share_with: string[];
  received_at: Date;
  receipt: string | null;
  audit_index: string | null;
  status: StatementStatus;
  /** the fingerprints of the reported sites its evidence names (their URLs are in the JWS) */
  site_fingerprints: string[];
}

export interface SiteRow {
  indicator_id: string;
  fingerprint: string;
  url: string;
}
