import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { superuserQuery } from '../support/database.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { statement, SUBMIT } from '../support/statements.js';
import { CLI, type CliResult, cordon } from '../support/cli.js';
import { receiver, until } from '../support/webhook-receiver.js';

type Result = CliResult;
/** The CLI with `input` on its stdin. */
function cordonWithStdin(args: string[], input: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}


describe('webhooks with the CLI: register, deliveries, disable and enable; a receiver verifies bodies with `cordon webhook verify`', () => {
  let app: TestApp;
  let dir: string;
  let rx: Awaited<ReturnType<typeof receiver>>;
  let adminKey: string;
  let jwksFile: string;
  let hotline: Awaited<ReturnType<typeof createMemberWithPrincipal>>;
  let exchange: Awaited<ReturnType<typeof createMemberWithPrincipal>> & { keyFile: string };
  let webhookId: string;
  let body: string;
  let bodyFile: string;
  let receipt: string;
  let indicatorId: string;

  const as = (keyFile: string, ...args: string[]) => cordon([...args, '--key', keyFile, '--url', app.url]);
  const json = async (keyFile: string, ...args: string[]) => {
    const res = await as(keyFile, ...args, '--json');
    expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
    return JSON.parse(res.stdout);
  };
  const webhookCount = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM webhook'))[0].n;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-cli-webhooks-'));
    rx = await receiver(dir);
    app = await startTestApp({ CORDON_WEBHOOK_CA_FILE: rx.certFile, CORDON_WEBHOOK_POLL_MS: '100', CORDON_WEBHOOK_TIMEOUT_MS: '3000' });
    adminKey = path.join(dir, 'admin.json');
    writeFileSync(adminKey, JSON.stringify(app.admin.privateJwk), { mode: 0o600 });
    hotline = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    const made = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    exchange = { ...made, keyFile: path.join(dir, 'exchange.json') };
    writeFileSync(exchange.keyFile, JSON.stringify(made.key.privateJwk), { mode: 0o600 });
    // What a receiver keeps: a saved copy of the exchange's JWKS.
    jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(jwksFile, await (await fetch(new URL('/.well-known/jwks.json', app.url))).text());
  });
  afterAll(async () => {
    await app?.stop();
    await rx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('register: bad flags named (exit 1, nothing stored); a GraphQL refusal is exit 2; an ADMIN registers for the member’s principal', async () => {
    const before = await webhookCount();
    const badEvent = await as(adminKey, 'webhooks', 'register', '--principal', exchange.principalId, '--endpoint', rx.url('/cli'), '--event', 'CHANGE,EVERYTHING');
    expect(badEvent.code).toBe(1);
    expect(badEvent.stderr).toMatch(/'--event <event>' argument 'CHANGE,EVERYTHING' is invalid\. must be one of NOTIFICATION, CHANGE/);
    const badUrl = await as(adminKey, 'webhooks', 'register', '--principal', exchange.principalId, '--endpoint', 'not a url');
    expect(badUrl.code).toBe(1);
    expect(badUrl.stderr).toMatch(/'--endpoint <https-url>' argument 'not a url' is invalid\. not an absolute URL/);
    const noPrincipal = await as(adminKey, 'webhooks', 'register', '--endpoint', rx.url('/cli'));
    expect(noPrincipal.code).toBe(1);
    expect(noPrincipal.stderr).toMatch(/required option '--principal <id>' not specified/);
    const http = await as(adminKey, 'webhooks', 'register', '--principal', exchange.principalId, '--endpoint', 'http://127.0.0.1:9/hook');
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/^error BAD_USER_INPUT: input\.url: must be https:\/\//m);
    const forbidden = await as(exchange.keyFile, 'webhooks', 'register', '--principal', exchange.principalId, '--endpoint', rx.url('/cli'));
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toMatch(/^error FORBIDDEN: /m);
    expect(await webhookCount()).toBe(before);

    const human = await as(adminKey, 'webhooks', 'register', '--principal', exchange.principalId, '--endpoint', rx.url('/cli'), '--event', 'CHANGE', '--description', 'ops receiver');
    expect(human.code).toBe(0);
    webhookId = /^id: (\S+)$/m.exec(human.stdout)![1];
    expect(human.stdout).toMatch(new RegExp(`^principalId: ${exchange.principalId}$`, 'm'));
    expect(human.stdout).toMatch(/^events: CHANGE$/m);
    expect(human.stdout).toMatch(/^disabledAt: -$/m);
    expect(await webhookCount()).toBe(before + 1);
    // Listed for the ADMIN (by member) and for the principal itself.
    expect((await json(adminKey, 'webhooks', 'list', '--member', exchange.memberId)).webhooks).toEqual([
      expect.objectContaining({ id: webhookId, principalId: exchange.principalId, events: ['CHANGE'], description: 'ops receiver', url: rx.url('/cli') }),
    ]);
    expect((await json(adminKey, 'webhooks', 'list', '--member', hotline.memberId)).webhooks).toEqual([]);
    const mine = await as(exchange.keyFile, 'webhooks', 'list');
    expect(mine.stdout.split('\n')[0]).toMatch(/^id\s+memberId\s+principalId\s+events\s+disabledAt\s+pending\s+consecutiveFailures\s+url$/);
    expect(mine.stdout).toMatch(new RegExp(`^${webhookId}\\s+${exchange.memberId}\\s+${exchange.principalId}\\s+CHANGE\\s+-\\s+\\d+\\s+0\\s+${rx.url('/cli').replace(/\./g, '\\.')}$`, 'm'));
  });

  it('a statement submitted reaches the receiver; `cordon webhook verify` says valid with its type and event, from a file or stdin', async () => {
    const res = await app.gql(SUBMIT, { jws: await statement(hotline.key, { iss: hotline.principalId, tlp: 'GREEN' }) }, hotline.key);
    expect(res.errors).toBeUndefined();
    indicatorId = res.data!.submitStatement.indicator.id;
    receipt = res.data!.submitStatement.receipt;
    const got = await until('the delivery', () => rx.requests.find((r) => r.headers['cordon-webhook-id'] === webhookId));
    body = got.body;
    bodyFile = path.join(dir, 'body.jws');
    writeFileSync(bodyFile, body);

    const verified = await cordon(['webhook', 'verify', bodyFile, '--jwks', jwksFile]);
    expect(verified.code).toBe(0);
    const claims = JSON.parse(verified.stdout);
    expect(claims).toMatchObject({
      valid: true,
      type: 'CHANGE',
      jti: got.headers['cordon-delivery-id'],
      aud: webhookId,
      webhookId,
      principalId: exchange.principalId,
      memberId: exchange.memberId,
      attempt: 1,
      event: { indicatorId },
      kid: JSON.parse(readFileSync(jwksFile, 'utf8')).keys[0].kid,
    });
    const piped = await cordonWithStdin(['webhook', 'verify', '-', '--jwks', jwksFile, '--webhook', webhookId], body);
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toEqual(claims);
    // The JWKS by its URL works the same.
    expect(JSON.parse((await cordon(['webhook', 'verify', bodyFile, '--jwks', new URL('/.well-known/jwks.json', app.url).href])).stdout)).toEqual(claims);
  });

  it('verify refuses a tampered body, a receipt (another typ), a delivery for another webhook, and an unreadable JWKS', async () => {
    const [h, p, s] = body.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, event: { ...payload.event, indicatorId: '00000000-0000-4000-8000-000000000000' } })).toString('base64url')}.${s}`;
    const tamperedFile = path.join(dir, 'tampered.jws');
    writeFileSync(tamperedFile, forged);
    const tampered = await cordon(['webhook', 'verify', tamperedFile, '--jwks', jwksFile]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toEqual({ valid: false, reason: expect.stringMatching(/^the signature does not verify with the exchange's keys/) });

    const receiptFile = path.join(dir, 'receipt.jws');
    writeFileSync(receiptFile, receipt);
    const other = await cordon(['webhook', 'verify', receiptFile, '--jwks', jwksFile]);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout)).toEqual({ valid: false, reason: 'header.typ is "cordon-receipt+jwt", not cordon-webhook+jwt' });

    const elsewhere = await cordon(['webhook', 'verify', bodyFile, '--jwks', jwksFile, '--webhook', '00000000-0000-4000-8000-000000000000']);
    expect(elsewhere.code).toBe(1);
    expect(JSON.parse(elsewhere.stdout).reason).toBe(`the delivery is for webhook ${webhookId}, not 00000000-0000-4000-8000-000000000000`);

    const noJwks = await cordon(['webhook', 'verify', bodyFile, '--jwks', bodyFile]);
    expect(noJwks.code).toBe(1);
    expect(noJwks.stderr).toMatch(/^cordon: --jwks \S+: not a JWKS/m);
    const missing = await cordon(['webhook', 'verify', path.join(dir, 'nope.jws'), '--jwks', jwksFile]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.jws: cannot read it \(ENOENT\)/);
  });

  it('deliveries: the delivery with its attempt 1, status 200, as JSON and one row per attempt', async () => {
    const jti = JSON.parse(Buffer.from(body.split('.')[1], 'base64url').toString('utf8')).jti;
    const data = await json(exchange.keyFile, 'webhooks', 'deliveries', webhookId);
    const node = data.webhook.deliveries.edges.map((e: { node: { id: string } }) => e.node).find((n: { id: string }) => n.id === jti);
    expect(node).toMatchObject({ type: 'CHANGE', attempts: 1, lastStatus: 200, lastError: null, deliveredAt: expect.any(String), attemptLog: [{ attempt: 1, status: 200, error: null, at: expect.any(String), durationMs: expect.any(Number) }] });
    const human = await as(adminKey, 'webhooks', 'deliveries', webhookId);
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^delivery\s+type\s+queuedAt\s+deliveredAt\s+attempt\s+at\s+status\s+durationMs\s+error$/);
    expect(human.stdout).toMatch(new RegExp(`^${jti}\\s+CHANGE\\s+\\S+\\s+\\S+Z\\s+1\\s+\\S+\\s+200\\s+\\d+\\s+-$`, 'm'));
    // Paged: one delivery a page, the next page's cursor on stderr.
    const more = await app.gql(SUBMIT, { jws: await statement(hotline.key, { iss: hotline.principalId, tlp: 'GREEN' }) }, hotline.key);
    expect(more.errors).toBeUndefined();
    await until('the second delivery', () => rx.requests.filter((r) => r.headers['cordon-webhook-id'] === webhookId).length >= 2);
    const page = await as(exchange.keyFile, 'webhooks', 'deliveries', webhookId, '--first', '1');
    expect(page.stdout.trim().split('\n')).toHaveLength(2);
    const after = /^more: pass --after (\S+)$/m.exec(page.stderr)![1];
    const next = await json(exchange.keyFile, 'webhooks', 'deliveries', webhookId, '--first', '1', '--after', after);
    expect(next.webhook.deliveries.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([jti]);
  });

  it('disable and enable change `webhooks show`; a principal of another member does not find it (exit 2)', async () => {
    const disabled = await as(adminKey, 'webhooks', 'disable', webhookId, '--reason', 'receiver maintenance');
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toMatch(/^disabledReason: receiver maintenance$/m);
    const shown = await as(exchange.keyFile, 'webhooks', 'show', webhookId);
    expect(shown.stdout).toMatch(/^disabledAt: \d{4}-\S+Z$/m);
    expect(shown.stdout).toMatch(/^disabledReason: receiver maintenance$/m);
    expect((await json(exchange.keyFile, 'webhooks', 'show', webhookId)).webhook).toMatchObject({ id: webhookId, disabledAt: expect.any(String), disabledReason: 'receiver maintenance' });
    const noReason = await as(adminKey, 'webhooks', 'disable', webhookId);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toMatch(/required option '--reason <text>' not specified/);

    expect((await json(adminKey, 'webhooks', 'enable', webhookId)).enableWebhook).toMatchObject({ disabledAt: null, disabledReason: null, consecutiveFailures: 0 });
    const back = await as(exchange.keyFile, 'webhooks', 'show', webhookId);
    expect(back.stdout).toMatch(/^disabledAt: -$/m);

    const hotlineKey = path.join(dir, 'hotline.json');
    writeFileSync(hotlineKey, JSON.stringify(hotline.key.privateJwk), { mode: 0o600 });
    const foreign = await as(hotlineKey, 'webhooks', 'show', webhookId);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toMatch(/^error NOT_FOUND: /m);
  });
});
