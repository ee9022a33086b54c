import { type CanonicalIndicator, type IndicatorKind, parse, siteFingerprint } from '@app/canonical';

/** SPEC 4 statement claims, after validation. */
export interface StatementClaims {
  iss: string;
  jti: string;
  iat: number;
  exp?: number;
  indicator: CanonicalIndicator;
  category: string;
  confidence: number;
  tlp: Tlp;
  shareWith: string[];
  evidence?: { sites: { url: string; fingerprint: string }[]; reference?: string; observedAt?: string };
}

export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED'] as const;
export type Tlp = (typeof TLPS)[number];
export const OPEN_TLPS: readonly Tlp[] = ['CLEAR', 'GREEN', 'AMBER'];

const CLAIMS = new Set(['iss', 'jti', 'iat', 'exp', 'indicator', 'category', 'confidence', 'tlp', 'shareWith', 'evidence']);
const INDICATOR_MEMBERS = new Set(['kind', 'network', 'value']);
const EVIDENCE_MEMBERS = new Set(['sites', 'reference', 'observedAt']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_SITES = 100;
const MAX_SHARE_WITH = 100;

/** A refusal of a statement: `code` is what SubmitOutcome carries, `message` names the claim. */
export class StatementRefusal extends Error {
  constructor(
    readonly code: StatementRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

export type StatementRefusalCode =
  | 'MALFORMED'
  | 'BAD_HEADER'
  | 'BAD_SIGNATURE'
  | 'UNKNOWN_KEY'
  | 'NOT_CONTRIBUTOR'
  | 'MEMBER_SUSPENDED'
  | 'FOREIGN_ISSUER'
  | 'BAD_CLAIMS'
  | 'UNKNOWN_MEMBER'
  | 'INVALID_VALUE'
  | 'EXCLUDED'
  | 'REPLAY'
  | 'TOO_MANY';

function bad(message: string): never {
  throw new StatementRefusal('BAD_CLAIMS', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function unknownMembers(obj: Record<string, unknown>, allowed: Set<string>, where: string): void {
  const extra = Object.keys(obj).filter((k) => !allowed.has(k));
  if (extra.length > 0) bad(`${where}: unknown member ${JSON.stringify(extra[0].slice(0, 40))} (allowed: ${[...allowed].join(', ')})`);
}

/**
 * 1 to 128 printable characters: no control characters (PostgreSQL text cannot hold NUL) and no
 * unpaired surrogates (not UTF-8, and RFC 8785 refuses them in the audit event that lists the jti).
 */
export function isStorableJti(jti: string): boolean {
  return jti.length >= 1 && jti.length <= 128 && !/[\p{Cc}\p{Cs}]/u.test(jti);
}

/** RFC 3339 date-time with a real calendar date (no 2024-02-30, no year 0000). */
function isRfc3339(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return false;
  if (m[9] !== undefined && (Number(m[9]) > 15 || Number(m[10]) > 59)) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day >= 1 && day <= daysInMonth;
}

function numericDate(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 253402300799) bad(`claims.${name}: must be a NumericDate (whole seconds since 1970)`);
  return v;
}

/**
 * Checks the claims of a statement against SPEC 4, strictly: unknown claims are refused, the
 * indicator value must canonicalise, site URLs must be http(s). `now` is epoch seconds.
 */
export function validateClaims(payload: unknown, now: number): StatementClaims {
  if (!isObject(payload)) bad('claims: must be a JSON object');
  unknownMembers(payload, CLAIMS, 'claims');
  const { iss, jti, iat, exp, indicator, category, confidence, tlp, shareWith, evidence } = payload;
  if (typeof iss !== 'string' || !UUID.test(iss)) bad('claims.iss: must be the issuing principal id (a UUID)');
  if (typeof jti !== 'string' || !isStorableJti(jti)) {
    bad('claims.jti: must be 1 to 128 printable characters, unique per issuer');
  }
  const issuedAt = numericDate(iat, 'iat');
  if (issuedAt > now + 60) bad('claims.iat: is in the future');
  let expiresAt: number | undefined;
  if (exp !== undefined) {
    expiresAt = numericDate(exp, 'exp');
    if (expiresAt <= issuedAt) bad('claims.exp: must be after iat');
    if (expiresAt <= now) bad('claims.exp: has already passed; the statement would support nothing');
  }
  if (!isObject(indicator)) bad('claims.indicator: must be an object { kind, network?, value }');
  unknownMembers(indicator, INDICATOR_MEMBERS, 'claims.indicator');
  if (indicator.network !== undefined && indicator.network !== null && typeof indicator.network !== 'string') {
    bad('claims.indicator.network: must be a string');
  }
  if (typeof category !== 'string' || !/^[A-Z][A-Z0-9_]{0,63}$/.test(category)) {
    bad('claims.category: must be an upper-case identifier such as CSAM_COMMERCIAL (A-Z, 0-9, _; at most 64)');
  }
  if (typeof confidence !== 'number' || !Number.isInteger(confidence) || confidence < 0 || confidence > 100) {
    bad('claims.confidence: must be a whole number from 0 to 100');
  }
  if (typeof tlp !== 'string' || !(TLPS as readonly string[]).includes(tlp)) bad(`claims.tlp: must be one of ${TLPS.join(', ')}`);
  let share: string[] = [];
  if (shareWith !== undefined) {
    if (!Array.isArray(shareWith) || shareWith.length > MAX_SHARE_WITH || shareWith.some((m) => typeof m !== 'string' || !UUID.test(m))) {
      bad(`claims.shareWith: must be a list of at most ${MAX_SHARE_WITH} member ids (UUIDs)`);
    }
    share = [...new Set((shareWith as string[]).map((m) => m.toLowerCase()))];
  }
  let evidenceOut: StatementClaims['evidence'];
  if (evidence !== undefined) {
    if (!isObject(evidence)) bad('claims.evidence: must be an object { sites, reference, observedAt }');
    unknownMembers(evidence, EVIDENCE_MEMBERS, 'claims.evidence');
    const sites: { url: string; fingerprint: string }[] = [];
    if (evidence.sites !== undefined) {
      if (!Array.isArray(evidence.sites) || evidence.sites.length > MAX_SITES) bad(`claims.evidence.sites: must be a list of at most ${MAX_SITES} URLs`);
      evidence.sites.forEach((site, i) => {
        if (typeof site !== 'string') bad(`claims.evidence.sites[${i}]: must be a URL string`);
        const normalised = siteFingerprint(site);
        if ('ok' in normalised) bad(`claims.evidence.sites[${i}]: ${normalised.message.replace(/^value: /, '')}`);
        sites.push({ url: normalised.canonical, fingerprint: normalised.fingerprint });
      });
    }
    if (
      evidence.reference !== undefined &&
      (typeof evidence.reference !== 'string' || evidence.reference.length > 500 || /[\p{Cc}\p{Cs}]/u.test(evidence.reference.replace(/[\n\t]/g, '')))
    ) {
      bad('claims.evidence.reference: must be a string of at most 500 printable characters');
    }
    if (evidence.observedAt !== undefined && !isRfc3339(evidence.observedAt)) {
      bad('claims.evidence.observedAt: must be an RFC 3339 date-time (e.g. 2026-11-29T18:00:00Z)');
    }
    evidenceOut = {
      sites,
      reference: evidence.reference as string | undefined,
      observedAt: evidence.observedAt as string | undefined,
    };
  }
  const parsed = parse(indicator.kind, indicator.value, indicator.network ?? undefined);
  if (!parsed.ok) {
    const where = parsed.field === 'kind' || parsed.field === 'network' ? `claims.indicator.${parsed.field}` : 'claims.indicator.value';
    throw new StatementRefusal('INVALID_VALUE', `${where}: ${parsed.message.replace(/^(value|network|kind): /, '')} (${parsed.code})`);
  }
  return {
    iss: iss.toLowerCase(),
    jti,
    iat: issuedAt,
    exp: expiresAt,
    indicator: parsed,
    category,
    confidence,
    tlp: tlp as Tlp,
    shareWith: share,
    evidence: evidenceOut,
  };
}

export type { IndicatorKind };
