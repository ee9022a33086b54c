import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { superuserQuery } from '../support/database.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';
import { receiver, until } from '../support/webhook-receiver.js';

type Party = Awaited<ReturnType<typeof createMemberWithPrincipal>>;
interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  claims: Record<string, any>;
}

const REGISTER = `mutation($i: WebhookInput!) { registerWebhook(input: $i) { id url principalId memberId events disabledAt consecutiveFailures pending } }`;
const WEBHOOK = `query($id: ID!) { webhook(id: $id) { id disabledAt disabledReason consecutiveFailures pending
  deliveries(first: 50) { edges { node { id type event attempts lastStatus lastError deliveredAt attemptLog { attempt status error } } } } } }`;

describe('webhooks (issue 18.4): signed notifications and feed events, retried, logged, disabled after repeated failure', () => {
  let app: TestApp;
  let dir: string;
  let rx: Awaited<ReturnType<typeof receiver>>;
  let hotline: Party;
  let exchange: Party;
  let other: Party;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-webhooks-'));
    rx = await receiver(dir);
    app = await startTestApp({
      CORDON_WEBHOOK_CA_FILE: rx.certFile,
      CORDON_WEBHOOK_POLL_MS: '100',
      CORDON_WEBHOOK_RETRY_BASE_MS: '100',
      CORDON_WEBHOOK_RETRY_MAX_MS: '300',
      CORDON_WEBHOOK_DISABLE_AFTER: '4',
      CORDON_WEBHOOK_TIMEOUT_MS: '3000',
    });
    hotline = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER', 'CONTRIBUTOR']);
    other = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['CONTRIBUTOR']);
    jwks = createLocalJWKSet((await (await fetch(new URL('/.well-known/jwks.json', app.url))).json()) as JSONWebKeySet);
  });
  afterAll(async () => {
    await app?.stop();
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Verifies a received body as a receiver would: the exchange's JWKS, the typ, the headers. */
  async function verified(r: { headers: Received['headers']; body: string }): Promise<Received> {
    expect(r.headers['content-type']).toBe('application/jose');
    expect(decodeProtectedHeader(r.body).typ).toBe('cordon-webhook+jwt');
    const { payload } = await compactVerify(r.body, jwks);
    const claims = JSON.parse(new TextDecoder().decode(payload));
    expect(r.headers['cordon-delivery-id']).toBe(claims.jti);
    expect(r.headers['cordon-webhook-id']).toBe(claims.webhookId);
    expect(r.headers['cordon-event']).toBe(claims.type);
    expect(r.headers['cordon-attempt']).toBe(String(claims.attempt));
    return { headers: r.headers, body: r.body, claims };
  }

  const submit = async (by: Party, tlp: string, value = nextAddress()) => {
    const res = await app.gql(SUBMIT, { jws: await statement(by.key, { iss: by.principalId, tlp, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, by.key);
    expect(res.errors).toBeUndefined();
    return res.data!.submitStatement.indicator.id as string;
  };
  const register = async (party: Party, p: string, events?: string[]) => {
    const res = await app.gql(REGISTER, { i: { principalId: party.principalId, url: rx.url(p), description: 'ops', ...(events ? { events } : {}) } });
    expect(res.errors).toBeUndefined();
    return res.data!.registerWebhook;
  };

  it('registration is for ADMINs, names a bad field, stores nothing on refusal, and is audited without the URL', async () => {
    const count = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM webhook'))[0].n;
    const before = await count();
    const refused = async (input: Record<string, unknown>, auth: unknown = undefined) =>
      (await app.gql(REGISTER, { i: { principalId: exchange.principalId, url: rx.url('/x'), ...input } }, auth as never)).errors?.[0];
    expect(await refused({ url: 'http://127.0.0.1:9/hook' })).toMatchObject({ message: expect.stringMatching(/^input\.url: must be https:\/\/ \(got http:\/\/\); http is accepted only with CORDON_WEBHOOK_ALLOW_HTTP=true/), extensions: { code: 'BAD_USER_INPUT' } });
    expect(await refused({ url: 'https://user:secret@127.0.0.1/hook' })).toMatchObject({ message: 'input.url: must not carry a user name or password' });
    expect(await refused({ url: 'not a url' })).toMatchObject({ message: 'input.url: is not an absolute URL (https://host/path)' });
    expect(await refused({ events: ['EVERYTHING'] })).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(await refused({ principalId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(await refused({}, exchange.key)).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await count()).toBe(before);

    const webhook = await register(other, '/secret-path-token-123');
    expect(webhook).toMatchObject({ principalId: other.principalId, memberId: other.memberId, events: ['NOTIFICATION', 'CHANGE'], disabledAt: null, pending: 0 });
    const [event] = await superuserQuery<{ action: string; canonical: string }>(app.db, `SELECT action, canonical FROM audit_event WHERE subject_id = $1`, [webhook.id]);
    expect(event.action).toBe('webhook.register');
    expect(event.canonical).not.toContain('secret-path-token-123');
    expect(JSON.parse(event.canonical).data).toMatchObject({ host: new URL(rx.url('/')).host, urlSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The principal reads its own webhook; another member's principal does not find it.
    expect((await app.gql(WEBHOOK, { id: webhook.id }, other.key)).data!.webhook.id).toBe(webhook.id);
    expect((await app.gql(WEBHOOK, { id: webhook.id }, exchange.key)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await app.gql(`{ webhooks { id } }`, {}, exchange.key)).data!.webhooks).toEqual([]);
    await app.gql(`mutation($id: ID!) { disableWebhook(id: $id, reason: "not used in this test") { id } }`, { id: webhook.id });
  });

  it('delivers the change feed as the principal sees it, signed by the exchange key: nothing of a statement hidden from it', async () => {
    const webhook = await register(exchange, '/feed', ['CHANGE']);
    const hiddenId = await submit(other, 'RED'); // not shared with the exchange
    const visibleId = await submit(hotline, 'GREEN');
    const received = await until('the visible change', async () => {
      const mine = rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id);
      return mine.length >= 1 && mine;
    });
    await new Promise((r) => setTimeout(r, 500)); // time for anything more to arrive
    const claims = await Promise.all(rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id).map(async (r) => (await verified(r)).claims));
    expect(received.length).toBeGreaterThan(0);
    expect(claims.map((c) => c.event.indicatorId)).toEqual([visibleId]);
    expect(claims[0]).toMatchObject({ type: 'CHANGE', aud: webhook.id, webhookId: webhook.id, principalId: exchange.principalId, memberId: exchange.memberId, attempt: 1 });
    expect(claims.map((c) => c.event.indicatorId)).not.toContain(hiddenId);
    // The same entries as the principal's own `changes` feed since registration.
    const changes = await app.gql(`{ changes(first: 100) { edges { node { auditIndex change status indicatorId indicator { fingerprint } } } } }`, {}, exchange.key);
    expect(changes.errors).toBeUndefined();
    if (changes.errors) throw new Error(JSON.stringify(changes.errors));
    const feed = changes.data!.changes.edges.map((e: any) => e.node);
    const expected = feed.filter((n: any) => n.indicatorId === visibleId);
    expect(claims.map((c) => ({ auditIndex: c.event.auditIndex, change: c.event.change, status: c.event.status, indicatorId: c.event.indicatorId, indicator: { fingerprint: c.event.indicator.fingerprint } }))).toEqual(expected);
    const log = (await app.gql(WEBHOOK, { id: webhook.id }, exchange.key)).data!.webhook;
    expect(log).toMatchObject({ pending: 0, consecutiveFailures: 0 });
    expect(log.deliveries.edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ id: claims[0].jti, type: 'CHANGE', attempts: 1, lastStatus: 200, deliveredAt: expect.any(String), attemptLog: [{ attempt: 1, status: 200, error: null }] }),
    ]);
    await app.gql(`mutation($id: ID!) { disableWebhook(id: $id, reason: "done") { id } }`, { id: webhook.id });
  });

  it('retries a failed delivery with the same idempotency id, a fresh signature per attempt, until it is taken', async () => {
    const webhook = await register(exchange, '/notify', ['NOTIFICATION']);
    const id = await submit(hotline, 'GREEN');
    expect((await app.gql('mutation($id: ID!) { reportSighting(indicatorId: $id, kind: ACTIONED) { id } }', { id }, exchange.key)).errors).toBeUndefined();
    rx.answer('/notify', 500, 503);
    const revoked = await app.gql(`mutation($id: ID!) { revokeIndicator(id: $id, reason: "seized by police") { status } }`, { id }, hotline.key);
    expect(revoked.data!.revokeIndicator.status).toBe('REVOKED');
    const attempts = await until('three attempts', async () => {
      const mine = rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id);
      return mine.length >= 3 && mine;
    });
    const claims = await Promise.all(attempts.map(async (r) => (await verified(r)).claims));
    expect(attempts.map((r) => r.status)).toEqual([500, 503, 200]);
    expect(new Set(claims.map((c) => c.jti)).size).toBe(1);
    expect(claims.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(new Set(attempts.map((r) => r.body)).size).toBe(3);
    expect(claims[2]).toMatchObject({ type: 'NOTIFICATION', event: { kind: 'REVOKED', indicatorId: id, message: expect.stringContaining('seized by police') } });
    const log = (await app.gql(WEBHOOK, { id: webhook.id }, exchange.key)).data!.webhook;
    expect(log.deliveries.edges[0].node).toMatchObject({ id: claims[0].jti, attempts: 3, lastStatus: 200, lastError: null });
    expect(log.deliveries.edges[0].node.attemptLog).toEqual([
      { attempt: 1, status: 500, error: 'HTTP 500' },
      { attempt: 2, status: 503, error: 'HTTP 503' },
      { attempt: 3, status: 200, error: null },
    ]);
    expect(log.consecutiveFailures).toBe(0);
    await app.gql(`mutation($id: ID!) { disableWebhook(id: $id, reason: "done") { id } }`, { id: webhook.id });
  });

  it('disables an endpoint after repeated failures (audited, the member told); the queue is kept and sent in order once enabled', async () => {
    const member = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const webhook = await register(member, '/flaky', ['CHANGE']);
    rx.setAlways(503);
    const first = await submit(hotline, 'GREEN');
    const state = await until('the webhook disabled', async () => {
      const w = (await app.gql(WEBHOOK, { id: webhook.id }, member.key)).data!.webhook;
      return w.disabledAt !== null && w;
    });
    expect(state).toMatchObject({ consecutiveFailures: 4, disabledReason: '4 consecutive failed deliveries; the last: HTTP 503' });
    const tries = rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id).length;
    expect(tries).toBe(4);
    const [event] = await superuserQuery<{ actor: string | null; canonical: string }>(app.db, `SELECT actor_principal_id AS actor, canonical FROM audit_event WHERE subject_id = $1 AND action = 'webhook.disable'`, [webhook.id]);
    expect(event.actor).toBeNull();
    expect(JSON.parse(event.canonical).data).toMatchObject({ automatic: true });
    const notes = (await app.gql(`{ notifications { kind message indicator { id } } }`, {}, member.key)).data!.notifications;
    expect(notes).toContainEqual({ kind: 'WEBHOOK_DISABLED', indicator: null, message: expect.stringContaining(`webhook ${webhook.id} was disabled after 4 consecutive failed deliveries`) });

    // While disabled: nothing is sent, new events are not lost.
    rx.setAlways(undefined);
    const second = await submit(hotline, 'GREEN');
    await new Promise((r) => setTimeout(r, 600));
    expect(rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id).length).toBe(tries);

    const enabled = await app.gql(`mutation($id: ID!) { enableWebhook(id: $id) { disabledAt consecutiveFailures } }`, { id: webhook.id });
    expect(enabled.data!.enableWebhook).toEqual({ disabledAt: null, consecutiveFailures: 0 });
    const delivered = await until('both changes delivered', async () => {
      const ok = rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id && r.status === 200);
      return ok.length >= 2 && ok;
    });
    const claims = await Promise.all(delivered.map(async (r) => (await verified(r)).claims));
    expect(claims.map((c) => c.event.indicatorId)).toEqual([first, second]);
    expect(claims[0].attempt).toBe(5);
    const w = (await app.gql(WEBHOOK, { id: webhook.id }, member.key)).data!.webhook;
    expect(w).toMatchObject({ pending: 0, consecutiveFailures: 0, disabledAt: null });
  });

  it('sends nothing to a suspended member, and catches up once it is reinstated', async () => {
    const member = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const webhook = await register(member, '/suspended', ['CHANGE']);
    expect((await app.gql(`mutation($id: ID!) { suspendMember(id: $id, reason: "audit") { suspended } }`, { id: member.memberId })).errors).toBeUndefined();
    const id = await submit(hotline, 'GREEN');
    await new Promise((r) => setTimeout(r, 600));
    expect(rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id)).toEqual([]);
    expect((await app.gql(`mutation($id: ID!) { reinstateMember(id: $id) { suspended } }`, { id: member.memberId })).errors).toBeUndefined();
    const got = await until('the change after reinstatement', async () => {
      const mine = rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhook.id);
      return mine.length >= 1 && mine;
    });
    expect((await verified(got[0])).claims.event.indicatorId).toBe(id);
  });
});

describe('webhooks: a wedged receiver holds up only itself, on a pool of two connections', () => {
  let app: TestApp;
  let dir: string;
  let rx: Awaited<ReturnType<typeof receiver>>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-webhooks-'));
    rx = await receiver(dir);
    app = await startTestApp({ CORDON_WEBHOOK_CA_FILE: rx.certFile, CORDON_WEBHOOK_POLL_MS: '100', CORDON_WEBHOOK_TIMEOUT_MS: '1000', CORDON_DB_POOL_SIZE: '2' });
  });
  afterAll(async () => {
    await rx?.close();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the healthy endpoint gets every change while the wedged one times out attempt after attempt; requests keep being answered', async () => {
    const hotline = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    const slow = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const fast = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    rx.hang('/wedged');
    const register = async (party: Party, p: string) =>
      (await app.gql(REGISTER, { i: { principalId: party.principalId, url: rx.url(p), events: ['CHANGE'] } })).data!.registerWebhook.id as string;
    const wedged = await register(slow, '/wedged');
    const healthy = await register(fast, '/healthy');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await app.gql(SUBMIT, { jws: await statement(hotline.key, { iss: hotline.principalId, tlp: 'GREEN', indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() } }) }, hotline.key);
      expect(res.errors).toBeUndefined();
      ids.push(res.data!.submitStatement.indicator.id);
      await new Promise((r) => setTimeout(r, 300));
    }
    const got = await until('every change at the healthy endpoint', async () => {
      const mine = rx.requests.filter((r) => r.headers['cordon-webhook-id'] === healthy);
      return mine.length >= 3 && mine;
    });
    expect(got.map((r) => JSON.parse(Buffer.from(r.body.split('.')[1], 'base64url').toString('utf8')).event.indicatorId)).toEqual(ids);
    const log = await until('two timed-out attempts at the wedged endpoint', async () => {
      const w = (await app.gql(WEBHOOK, { id: wedged })).data!.webhook;
      const attempts = w.deliveries.edges.flatMap((e: any) => e.node.attemptLog);
      return attempts.length >= 2 && attempts;
    });
    expect(log.slice(0, 2)).toEqual([
      { attempt: 1, status: null, error: 'no answer within 1000 ms' },
      { attempt: 2, status: null, error: 'no answer within 1000 ms' },
    ]);
  });
});
