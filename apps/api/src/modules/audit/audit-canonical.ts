import canonicalize from 'canonicalize';

/** What an audit event says, before it has an index. */
export interface AuditEventBody {
  /**
   * 256 random bits (base64url, 43 characters), unique to the event: its leaf hash is then a
   * commitment that reveals nothing to whoever cannot read the event — without it, a leaf of a
   * screening call (action, actor, millisecond time, fingerprints, index) could be confirmed by
   * hashing guesses. Readable with the event, by those who may read it.
   */
  salt: string;
  at: string;
  action: string;
  actor: { principal: string; member: string } | null;
  subject: string | null;
  subjectMember: string | null;
  data: Record<string, unknown>;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * RFC 8785 canonical JSON (the canonicalize package), with shortcuts for what every event carries
 * (screening writes one per call, thousands a second): null, booleans, finite numbers and
 * strings without surrogates are written by JSON.stringify, which is how RFC 8785 writes them
 * (numbers as ECMAScript's Number::toString, -0 as 0) — the same bytes; so is an array of such
 * strings (a screening event's fingerprints, ~10× faster for 10,000 of them); plain objects
 * are written member by member in RFC 8785 order. Strings with any surrogate, and every other
 * value, go to canonicalize (which refuses lone surrogates).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return JSON.stringify(value);
  if (typeof value === 'string') {
    if (!SURROGATE.test(value)) return JSON.stringify(value);
  } else if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string' && !SURROGATE.test(v))) return JSON.stringify(value);
  } else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && !('toJSON' in value)) {
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === 'symbol') continue;
      parts.push(`${canonicalJson(key)}:${canonicalJson(member)}`);
    }
    return `{${parts.join(',')}}`;
  }
  const text = canonicalize(value);
  if (text === undefined) throw new Error('audit event is not serialisable');
  return text;
}

const json = canonicalJson;

/** The version of events with a salt; version 1 (before) had none. */
export const EVENT_VERSION = 2;

/**
 * The event's RFC 8785 canonical JSON, cut where its index goes: `before + index + after` is
 * exactly `canonicalize({ v: 2, index, salt, at, action, actor, subject, subjectMember, data })`
 * (members in RFC 8785 order: action, actor, at, data, index, salt, subject, subjectMember, v). So
 * the database can fill in the index it assigns and hash the bytes in the same statement.
 */
export function canonicalParts(event: AuditEventBody): { before: string; after: string } {
  return {
    before: `{"action":${json(event.action)},"actor":${json(event.actor)},"at":${json(event.at)},"data":${json(event.data)},"index":`,
    after: `,"salt":${json(event.salt)},"subject":${json(event.subject)},"subjectMember":${json(event.subjectMember)},"v":${EVENT_VERSION}}`,
  };
}
