import canonicalize from 'canonicalize';

/** What an audit event says, before it has an index. */
export interface AuditEventBody {
  at: string;
  action: string;
  actor: { principal: string; member: string } | null;
  subject: string | null;
  subjectMember: string | null;
  data: Record<string, unknown>;
}

function json(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('audit event is not serialisable');
  return text;
}

/**
 * The event's RFC 8785 canonical JSON, cut where its index goes: `before + index + after` is
 * exactly `canonicalize({ v: 1, index, at, action, actor, subject, subjectMember, data })`
 * (members in RFC 8785 order: action, actor, at, data, index, subject, subjectMember, v). So the
 * database can fill in the index it assigns and hash the bytes in the same statement.
 */
export function canonicalParts(event: AuditEventBody): { before: string; after: string } {
  return {
    before: `{"action":${json(event.action)},"actor":${json(event.actor)},"at":${json(event.at)},"data":${json(event.data)},"index":`,
    after: `,"subject":${json(event.subject)},"subjectMember":${json(event.subjectMember)},"v":1}`,
  };
}
