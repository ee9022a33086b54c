import { superuserQuery } from '../support/database.js';
import { startTestApp, type TestApp } from '../support/server.js';

describe('foundation: health, JWKS, bootstrap, audit', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('answers /health with 200 while the database answers', async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves the exchange public key at /.well-known/jwks.json, without a private part', async () => {
    const res = await fetch(`${app.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: Record<string, string>[] };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' }); // CORDON_EXCHANGE_KEY_ALG default
    expect(keys[0].d).toBeUndefined();
  });

  it('bootstraps the Coalition Secretariat admin on the configured key', async () => {
    const res = await app.gql('{ me { id name roles member { name kind suspended } keys { kid status } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data!.me).toMatchObject({
      id: app.adminId,
      name: 'admin',
      roles: ['CURATOR', 'AUDITOR', 'ADMIN'],
      member: { name: 'Coalition Secretariat', kind: 'COORDINATOR', suspended: false },
      keys: [{ kid: app.admin.kid, status: 'ACTIVE' }],
    });
  });

  it('writes an audit event with the change, in canonical JSON with its leaf hash', async () => {
    const res = await app.gql('mutation { createMember(input: { name: "Audit Probe", kind: CARD_PROCESSOR }) { id } }');
    const id = res.data!.createMember.id as string;
    const rows = await superuserQuery<{ idx: string; action: string; canonical: string; actor_principal_id: string; leaf_hash: Buffer }>(
      app.db,
      `SELECT idx, action, canonical, actor_principal_id, leaf_hash FROM audit_event WHERE subject_id = $1`,
      [id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'member.create', actor_principal_id: app.adminId });
    const event = JSON.parse(rows[0].canonical);
    expect(event).toMatchObject({ action: 'member.create', index: Number(rows[0].idx), data: { name: 'Audit Probe', kind: 'CARD_PROCESSOR' } });
    const { createHash } = await import('node:crypto');
    expect(rows[0].leaf_hash.toString('hex')).toBe(
      createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(rows[0].canonical, 'utf8')])).digest('hex'),
    );
  });

  it('numbers audit events without gaps, from 0', async () => {
    const rows = await superuserQuery<{ idx: string }>(app.db, 'SELECT idx FROM audit_event ORDER BY idx');
    expect(rows.map((r) => Number(r.idx))).toEqual(rows.map((_, i) => i));
    const [head] = await superuserQuery<{ size: string }>(app.db, 'SELECT size FROM audit_head');
    expect(Number(head.size)).toBe(rows.length);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of the audit log, even by the database owner', async () => {
    await expect(superuserQuery(app.db, `UPDATE audit_event SET action = 'x' WHERE idx = 0`)).rejects.toThrow(/append-only/);
    await expect(superuserQuery(app.db, `DELETE FROM audit_event WHERE idx = 0`)).rejects.toThrow(/append-only/);
    await expect(superuserQuery(app.db, `TRUNCATE audit_event`)).rejects.toThrow(/append-only/);
  });

  it('does not change anything when a mutation fails validation; only the refusal is logged, without the values sent', async () => {
    const counts = () => superuserQuery<{ members: number; events: number }>(app.db, 'SELECT (SELECT count(*)::int FROM member) AS members, (SELECT count(*)::int FROM audit_event) AS events');
    const [before] = await counts();
    const res = await app.gql('mutation { createMember(input: { name: "  \\t ", kind: CARD_PROCESSOR }) { id } }');
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toBe('input.name: must be 1 to 200 characters');
    const [after] = await counts();
    expect(after).toEqual({ members: before.members, events: before.events + 1 });
    const [last] = await superuserQuery<{ action: string; canonical: string; actor_principal_id: string }>(
      app.db,
      'SELECT action, canonical, actor_principal_id FROM audit_event ORDER BY idx DESC LIMIT 1',
    );
    expect(last.action).toBe('mutation.refused');
    expect(last.actor_principal_id).toBe(app.adminId);
    expect(JSON.parse(last.canonical).data).toEqual({ refused: [{ path: 'createMember', code: 'BAD_USER_INPUT', field: 'input.name' }] });
  });
});
