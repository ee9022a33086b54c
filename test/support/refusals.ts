import { superuserQuery } from './database.js';
import type { GraphqlResponse, TestApp } from './server.js';

export interface DirectoryCounts {
  member: number;
  principal: number;
  principal_key: number;
  audit_event: number;
}

/** Rows of the member/principal/key directory and of the audit log. */
export async function directoryCounts(app: TestApp): Promise<DirectoryCounts> {
  const [row] = await superuserQuery<DirectoryCounts>(
    app.db,
    `SELECT (SELECT count(*)::int FROM member) AS member,
            (SELECT count(*)::int FROM principal) AS principal,
            (SELECT count(*)::int FROM principal_key) AS principal_key,
            (SELECT count(*)::int FROM audit_event) AS audit_event`,
  );
  return row;
}

/** Exactly one error, with this code and (when given) this message. */
export function expectError(res: GraphqlResponse, code: string, message?: string | RegExp): void {
  expect(res.errors).toBeDefined();
  expect(res.errors).toHaveLength(1);
  expect(res.errors![0].extensions?.code).toBe(code);
  if (typeof message === 'string') expect(res.errors![0].message).toBe(message);
  else if (message) expect(res.errors![0].message).toMatch(message);
}

/**
 * A refused request changes nothing and answers no data; it writes only its own audit event:
 * auth.refused for UNAUTHENTICATED, access.denied for FORBIDDEN, mutation.refused (naming the
 * code) for a refused mutation, none for a refused query.
 */
export async function refusedWithoutChange(
  app: TestApp,
  run: () => Promise<GraphqlResponse>,
  code: string,
  message?: string | RegExp,
): Promise<GraphqlResponse> {
  const before = await directoryCounts(app);
  const res = await run();
  expectError(res, code, message);
  expect(res.data?.[Object.keys(res.data ?? {})[0]] ?? null).toBeNull();
  const after = await directoryCounts(app);
  const audited = code === 'UNAUTHENTICATED' || code === 'FORBIDDEN';
  const [last] = await superuserQuery<{ action: string; canonical: string }>(app.db, 'SELECT action, canonical FROM audit_event ORDER BY idx DESC LIMIT 1');
  if (audited) {
    expect(after).toEqual({ ...before, audit_event: before.audit_event + 1 });
    expect(last.action).toBe(code === 'UNAUTHENTICATED' ? 'auth.refused' : 'access.denied');
  } else if (after.audit_event === before.audit_event + 1) {
    expect(after).toEqual({ ...before, audit_event: before.audit_event + 1 });
    expect(last.action).toBe('mutation.refused');
    expect(JSON.parse(last.canonical).data.refused[0].code).toBe(code);
  } else {
    expect(after).toEqual(before);
  }
  return res;
}
