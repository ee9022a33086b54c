import type { Caller } from '../../common/caller.js';
import { isCoordinator } from '../../common/caller.js';

/** An indicator row as the read queries select it. */
export interface IndicatorRow {
  id: string;
  kind: string;
  network: string;
  value: string;
  fingerprint: string;
  status: string;
  category: string;
  confidence: number;
  tlp: string;
  attestation_count: number;
  first_seen_at: Date;
  last_seen_at: Date;
  supported_until: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

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
}

export const INDICATOR_COLUMNS = `i.id, i.kind, i.network, i.value, i.fingerprint, i.status, i.category, i.confidence, i.tlp,
  i.attestation_count, i.first_seen_at, i.last_seen_at, i.supported_until, i.version, i.created_at, i.updated_at`;

/**
 * SPEC 3 visibility as SQL, for the indicator alias `i`: TLP CLEAR/GREEN/AMBER for every member;
 * AMBER_STRICT/RED for the submitting members, those in shareWith, and coordinators. Every read
 * path puts this in its WHERE, so an invisible indicator is never fetched at all.
 */
export function indicatorVisible(caller: Caller, params: unknown[]): string {
  params.push(isCoordinator(caller), caller.memberId);
  return indicatorVisibleTo({ coordinator: `$${params.length - 1}::boolean`, member: `$${params.length}::uuid` });
}

/**
 * The same rule with the caller given as SQL expressions (parameters, or the columns of a list of
 * callers, as screening's grouped statement has): whether the caller is a coordinator, its member.
 */
export function indicatorVisibleTo(caller: { coordinator: string; member: string }): string {
  return `(i.open_tlp OR ${caller.coordinator} OR ${caller.member} = ANY(i.visible_members))`;
}

/** The same rule for one statement (alias `s`): each statement's own TLP governs it. */
export function statementVisible(caller: Caller, params: unknown[]): string {
  params.push(isCoordinator(caller), caller.memberId);
  const c = params.length - 1;
  const m = params.length;
  return `(s.tlp IN ('CLEAR', 'GREEN', 'AMBER') OR $${c}::boolean OR s.issuer_member_id = $${m}::uuid OR $${m}::uuid = ANY(s.share_with))`;
}
