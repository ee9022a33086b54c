import { type ChildServer, spawnServer } from '../support/child-server.js';
import { superuserQuery } from '../support/database.js';
import { type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, type GraphqlResponse, post, startTestApp, type TestApp } from '../support/server.js';
import { metricsText } from '../support/metrics.js';

const SCREEN = `query { screen(input: { kind: DOMAIN, value: "example.org" }) { valid } }`;

/**
 * API processes remember verified keys (and their principal's roles and standing) so that a
 * screening request costs no credential query. Every change must still be felt at once: in the
 * process that made it before its answer leaves, in every other process on NOTIFY, and for
 * changes made at the database itself by an operator.
 */
describe('remembered keys follow every credential change', () => {
  let app: TestApp;
  let second: ChildServer;

  beforeAll(async () => {
    app = await startTestApp();
    second = await spawnServer({ DATABASE_URL: app.db.url, CORDON_RATE_LIMIT: '100000', CORDON_AUTH_FAILURE_LIMIT: '100000' });
  });
  afterAll(async () => {
    if (second) {
      second.child.kill('SIGTERM');
      await second.exited;
    }
    await app?.stop();
  });

  const screen = async (url: string, key: TestKey): Promise<GraphqlResponse> => post(url, { query: SCREEN }, await tokenFor(key));
  const codeOf = (res: GraphqlResponse) => res.errors?.[0]?.extensions?.code ?? 'OK';

  /** Screens through both processes until both give `code`; returns how long that took (ms). */
  async function until(key: TestKey, code: string): Promise<number> {
    const start = Date.now();
    for (;;) {
      const codes = [codeOf(await screen(app.url, key)), codeOf(await screen(second.url, key))];
      if (codes.every((c) => c === code)) return Date.now() - start;
      if (Date.now() - start > 5000) throw new Error(`still ${codes.join(', ')} after 5 s, expected ${code}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** A fresh screener whose key both processes have just verified (and remember). */
  async function rememberedScreener() {
    const party = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    for (const url of [app.url, second.url]) {
      for (let i = 0; i < 3; i++) expect(codeOf(await screen(url, party.key))).toBe('OK');
    }
    return party;
  }

  /** cordon_auth_key_reads_total{source} of a process. */
  async function keyReads(url: string): Promise<{ memory: number; database: number }> {
    const text = await metricsText(url);
    const count = (source: string) => Number(new RegExp(`^cordon_auth_key_reads_total\\{source="${source}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { memory: count('memory'), database: count('database') };
  }

  it('remembers a verified key: repeated requests with it read no credentials from the database', async () => {
    const party = await rememberedScreener();
    for (const url of [app.url, second.url]) {
      const before = await keyReads(url);
      for (let i = 0; i < 5; i++) expect(codeOf(await screen(url, party.key))).toBe('OK');
      const after = await keyReads(url);
      expect(after.memory - before.memory).toBe(5);
      expect(after.database - before.database).toBe(0);
    }
  });

  it('a key revoked through one process is refused by that process at once and by the other within a second', async () => {
    const party = await rememberedScreener();
    const revoke = await app.gql(`mutation($kid: ID!) { revokePrincipalKey(kid: $kid, reason: "lost laptop") { status } }`, { kid: party.key.kid });
    expect(revoke.errors).toBeUndefined();
    // The revoking process: no window at all once its answer has arrived.
    expect(codeOf(await screen(app.url, party.key))).toBe('UNAUTHENTICATED');
    expect(await until(party.key, 'UNAUTHENTICATED')).toBeLessThan(1000);
  });

  it('a member suspended through the other process is refused by both within a second', async () => {
    const party = await rememberedScreener();
    // The admin's request goes to the second process this time.
    const suspend = await post(
      second.url,
      { query: `mutation($id: ID!) { suspendMember(id: $id, reason: "investigation") { suspended } }`, variables: { id: party.memberId } },
      await tokenFor(app.admin),
    );
    expect(suspend.errors).toBeUndefined();
    expect(codeOf(await screen(second.url, party.key))).toBe('UNAUTHENTICATED');
    expect(await until(party.key, 'UNAUTHENTICATED')).toBeLessThan(1000);
  });

  it('a role taken away applies in both processes within a second', async () => {
    const party = await rememberedScreener();
    const roles = await app.gql(`mutation($id: ID!) { setPrincipalRoles(id: $id, roles: [AUDITOR]) { roles } }`, { id: party.principalId });
    expect(roles.errors).toBeUndefined();
    expect(await until(party.key, 'FORBIDDEN')).toBeLessThan(1000);
  });

  it('an operator revoking a key or disabling a principal at the database, not through the API, is felt within a second', async () => {
    const revoked = await rememberedScreener();
    await superuserQuery(app.db, `UPDATE principal_key SET status = 'REVOKED', revoked_at = now(), revoked_reason = 'by hand' WHERE kid = $1`, [revoked.key.kid]);
    expect(await until(revoked.key, 'UNAUTHENTICATED')).toBeLessThan(1000);

    const disabled = await rememberedScreener();
    await superuserQuery(app.db, `UPDATE principal SET disabled = true, disabled_at = now(), disabled_reason = 'by hand' WHERE id = $1`, [disabled.principalId]);
    expect(await until(disabled.key, 'UNAUTHENTICATED')).toBeLessThan(1000);

    // ... and undoing it at the database lets the key in again.
    await superuserQuery(app.db, `UPDATE principal SET disabled = false, disabled_at = NULL, disabled_reason = NULL WHERE id = $1`, [disabled.principalId]);
    expect(await until(disabled.key, 'OK')).toBeLessThan(1000);
  });

  it('after losing its notifications connection a process trusts nothing it remembered, and remembers again once it listens', async () => {
    const party = await rememberedScreener();
    // Every connection of both processes to the database is cut (as a database restart would);
    // the key is revoked by hand while they reconnect: no notification reaches anyone.
    await superuserQuery(app.db, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    await superuserQuery(app.db, `UPDATE principal_key SET status = 'REVOKED', revoked_at = now(), revoked_reason = 'during an outage' WHERE kid = $1`, [party.key.kid]);
    expect(await until(party.key, 'UNAUTHENTICATED')).toBeLessThan(2000);

    // Once listening again, both remember keys again.
    const other = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    for (const url of [app.url, second.url]) {
      for (let attempt = 0; ; attempt++) {
        const before = await keyReads(url);
        for (let i = 0; i < 3; i++) expect(codeOf(await screen(url, other.key))).toBe('OK');
        const after = await keyReads(url);
        if (after.memory - before.memory >= 2) break;
        if (attempt > 50) throw new Error(`${url} does not remember keys again`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
});
