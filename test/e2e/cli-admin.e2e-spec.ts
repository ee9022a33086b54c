import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { superuserQuery } from '../support/database.js';
import type { TestKey } from '../support/keys.js';
import { startTestApp, type TestApp } from '../support/server.js';
import { statement, SUBMIT } from '../support/statements.js';
import { cordon } from '../support/cli.js';
import { generateSigningKey } from '@app/signing';


/** A party that works with the CLI only: its key in a file made by `cordon keygen`, created by `cordon members|principals create`. */
type Party = { keyFile: string; key: TestKey; memberId: string; principalId: string };

describe('coordinators’ and administrators’ jobs with the CLI (issue 18.8)', () => {
  let app: TestApp;
  let dir: string;
  let adminKey: string;
  let curator: Party;
  let exchange: Party;
  let processor: Party;
  let started: string;
  /** `cordon <args> --json --key <file> --url <app>`, expected to succeed: its parsed JSON. */
  const json = async (keyFile: string, ...args: string[]) => {
    const res = await cordon([...args, '--json', '--key', keyFile, '--url', app.url]);
    expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
    return JSON.parse(res.stdout);
  };
  const as = (keyFile: string, ...args: string[]) => cordon([...args, '--key', keyFile, '--url', app.url]);
  const memberCount = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM member'))[0].n;
  const keyOf = (keyFile: string): TestKey => {
    const privateJwk = JSON.parse(readFileSync(keyFile, 'utf8'));
    const { d: _d, ...publicJwk } = privateJwk;
    return { privateJwk, publicJwk, kid: privateJwk.kid };
  };

  /** A member and its principal made with `cordon members create` and `cordon principals create`. */
  async function party(name: string, kind: string, roles: string[]): Promise<Party> {
    const keyFile = path.join(dir, `${name}.json`);
    const made = await cordon(['keygen', '--out', keyFile]);
    expect(made.code).toBe(0);
    const member = (await json(adminKey, 'members', 'create', '--name', name, '--kind', kind)).createMember;
    expect(member).toMatchObject({ id: expect.any(String), name, kind, suspended: false });
    // --jwk takes the public JWK inline as keygen printed it, or the private key file itself (only its public part is sent).
    const jwk = name.length % 2 ? made.stdout.trim() : keyFile;
    const principal = (await json(adminKey, 'principals', 'create', '--member', member.id, '--name', `${name} api`, '--role', roles.join(','), '--jwk', jwk)).createPrincipal;
    expect(principal).toMatchObject({ name: `${name} api`, roles: expect.arrayContaining(roles), member: { id: member.id }, keys: [{ kid: JSON.parse(made.stdout).kid, status: 'ACTIVE' }] });
    expect(principal.roles).toHaveLength(roles.length);
    return { keyFile, key: keyOf(keyFile), memberId: member.id, principalId: principal.id };
  }

  /** A statement by the party, submitted: its indicator (PENDING unless a coordinator's). */
  async function submitted(p: Party, overrides: Record<string, unknown> = {}): Promise<{ id: string; status: string }> {
    const res = await app.gql(SUBMIT, { jws: await statement(p.key, { iss: p.principalId, ...overrides }) }, p.key);
    expect(res.errors).toBeUndefined();
    return res.data!.submitStatement.indicator;
  }
  const indicator = async (id: string, key: TestKey = curator.key) =>
    (await app.gql(`query($id: ID!) { indicator(id: $id) { id status sightings { seen falsePositive actioned } statements { review { decision note status } } } }`, { id }, key)).data!.indicator;

  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-admin-'));
    adminKey = path.join(dir, 'admin.json');
    writeFileSync(adminKey, JSON.stringify(app.admin.privateJwk), { mode: 0o600 });
    started = new Date(Date.now() - 1000).toISOString();
    curator = await party('Hotline', 'COORDINATOR', ['CURATOR', 'AUDITOR', 'CONTRIBUTOR']);
    exchange = await party('Exchange A', 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    processor = await party('Processor B', 'CARD_PROCESSOR', ['CONTRIBUTOR', 'SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('members and principals: created through the CLI they are listed; suspend and disable refuse them, reinstate and enable let them back; roles replaced', async () => {
    const listed = (await json(adminKey, 'members', 'list')).members;
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ id: exchange.memberId, name: 'Exchange A', kind: 'CRYPTO_EXCHANGE', suspended: false })]));
    // Human output: a table with a header, one row per member.
    const table = await as(adminKey, 'members', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^id\s+kind\s+suspended\s+name$/);
    expect(table.stdout).toMatch(new RegExp(`^${exchange.memberId}\\s+CRYPTO_EXCHANGE\\s+false\\s+Exchange A$`, 'm'));

    const principals = (await json(adminKey, 'principals', 'list', '--member', exchange.memberId)).member.principals;
    expect(principals).toEqual([expect.objectContaining({ id: exchange.principalId, roles: expect.arrayContaining(['CONTRIBUTOR', 'SCREENER']), disabled: false })]);
    expect((await json(exchange.keyFile, 'principals', 'list')).member.principals.map((p: { id: string }) => p.id)).toEqual([exchange.principalId]);

    // Suspended: the member shows it with the reason; its principal is refused.
    const suspended = (await json(adminKey, 'members', 'suspend', processor.memberId, '--reason', 'unpaid dues')).suspendMember;
    expect(suspended).toMatchObject({ id: processor.memberId, suspended: true, suspendedReason: 'unpaid dues' });
    expect((await json(adminKey, 'members', 'show', processor.memberId)).member).toMatchObject({ suspended: true, suspendedReason: 'unpaid dues', suspendedAt: expect.any(String) });
    const refused = await as(processor.keyFile, 'me');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error UNAUTHENTICATED: /m);
    const shown = await as(adminKey, 'members', 'show', processor.memberId);
    expect(shown.stdout).toMatch(/^suspended: true$/m);
    expect(shown.stdout).toMatch(/^suspendedReason: unpaid dues$/m);
    expect((await json(adminKey, 'members', 'reinstate', processor.memberId, '--note', 'paid')).reinstateMember).toMatchObject({ suspended: false });
    expect((await as(processor.keyFile, 'me')).code).toBe(0);

    // Disabled principal: refused until enabled.
    expect((await json(adminKey, 'principals', 'disable', processor.principalId, '--reason', 'leaked laptop')).disablePrincipal).toMatchObject({ disabled: true });
    expect((await as(processor.keyFile, 'me')).code).toBe(2);
    expect((await json(adminKey, 'principals', 'enable', processor.principalId)).enablePrincipal).toMatchObject({ disabled: false });
    expect((await as(processor.keyFile, 'me')).code).toBe(0);

    // Roles replaced, all of them.
    expect((await json(adminKey, 'principals', 'roles', processor.principalId, '--role', 'SCREENER')).setPrincipalRoles.roles).toEqual(['SCREENER']);
    expect((await json(processor.keyFile, 'principals', 'show', processor.principalId)).principal.roles).toEqual(['SCREENER']);
    expect((await json(adminKey, 'principals', 'roles', processor.principalId, '--role', 'CONTRIBUTOR', '--role', 'SCREENER')).setPrincipalRoles.roles.sort()).toEqual(['CONTRIBUTOR', 'SCREENER']);
  });

  it('a bad flag is named, exit 1, and nothing is sent', async () => {
    const before = await memberCount();
    const badKind = await as(adminKey, 'members', 'create', '--name', 'Nope Ltd', '--kind', 'BANK');
    expect(badKind.code).toBe(1);
    expect(badKind.stderr).toMatch(/option '--kind <kind>' argument 'BANK' is invalid\. must be one of CARD_PROCESSOR, COORDINATOR, CRYPTO_EXCHANGE/);
    const noName = await as(adminKey, 'members', 'create', '--kind', 'COORDINATOR');
    expect(noName.code).toBe(1);
    expect(noName.stderr).toMatch(/required option '--name <name>' not specified/);
    const badRole = await as(adminKey, 'principals', 'create', '--member', exchange.memberId, '--name', 'x', '--role', 'SCREENER,GOD', '--jwk', exchange.keyFile);
    expect(badRole.code).toBe(1);
    expect(badRole.stderr).toMatch(/'--role <role>' argument 'SCREENER,GOD' is invalid\. must be one of ADMIN, AUDITOR/);
    const badJwk = await as(adminKey, 'principals', 'create', '--member', exchange.memberId, '--name', 'x', '--role', 'SCREENER', '--jwk', '{"kty":"RSA"}');
    expect(badJwk.code).toBe(1);
    expect(badJwk.stderr).toMatch(/^cordon: --jwk/m);
    const badUpheld = await as(curator.keyFile, 'disputes', 'resolve', 'x', '--upheld', 'maybe');
    expect(badUpheld.code).toBe(1);
    expect(badUpheld.stderr).toMatch(/'--upheld <true\|false>' argument 'maybe' is invalid\. must be true or false/);
    const noteless = await as(curator.keyFile, 'review', 'reject', 'x');
    expect(noteless.code).toBe(1);
    expect(noteless.stderr).toMatch(/required option '--note <text>' not specified/);
    expect(await memberCount()).toBe(before);
    // Nothing reached the service: no refusal was audited either.
    expect((await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'mutation.refused'`))[0].n).toBe(0);
  });

  it('keys rotate: the new key is added, then the old kid revoked; the new key works, the old one is refused; keys add and revoke for another principal', async () => {
    const newKey = path.join(dir, 'exchange-new.json');
    const made = await cordon(['keygen', '--out', newKey, '--alg', 'EdDSA']);
    const newKid = JSON.parse(made.stdout).kid;
    const rotated = await cordon(['keys', 'rotate', '--new-key', newKey, '--key', exchange.keyFile, '--url', app.url]);
    expect(rotated.code).toBe(0);
    expect(rotated.stderr).toContain(`added key ${newKid} to principal ${exchange.principalId}; revoking ${exchange.key.kid}`);
    expect(rotated.stdout).toMatch(new RegExp(`^added\\.kid: ${newKid}$`, 'm'));
    expect(rotated.stdout).toMatch(/^revoked\.status: REVOKED$/m);
    const keys = (await json(newKey, 'keys', 'list')).principal.keys;
    expect(keys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kid: exchange.key.kid, status: 'REVOKED', revokedReason: 'rotated' }),
        expect.objectContaining({ kid: newKid, status: 'ACTIVE', alg: 'EdDSA' }),
      ]),
    );
    expect(keys).toHaveLength(2);
    expect(JSON.parse((await as(newKey, 'me')).stdout).me.id).toBe(exchange.principalId);
    expect((await as(exchange.keyFile, 'me')).code).toBe(2);
    // The old key file again as --new-key: a revoked key cannot come back, and nothing else is revoked.
    const back = await cordon(['keys', 'rotate', '--new-key', exchange.keyFile, '--key', newKey, '--url', app.url]);
    expect(back.code).toBe(2);
    expect((await json(newKey, 'keys', 'list')).principal.keys.find((k: { kid: string }) => k.kid === newKid).status).toBe('ACTIVE');
    exchange = { ...exchange, keyFile: newKey, key: keyOf(newKey) };

    // An administrator for another principal: add a public key, revoke the old kid.
    // Its kid starts with "-" (one key in 64 does): the CLI must take it as the key id, not refuse it as an unknown option.
    const spare = path.join(dir, 'processor-spare.json');
    let spareJwk = await generateSigningKey('ES256');
    while (!spareJwk.publicJwk.kid.startsWith('-')) spareJwk = await generateSigningKey('ES256');
    writeFileSync(spare, JSON.stringify(spareJwk.privateJwk), { mode: 0o600 });
    const spareKid = spareJwk.publicJwk.kid;
    expect((await json(adminKey, 'keys', 'add', processor.principalId, '--jwk', spare)).addPrincipalKey).toMatchObject({ kid: spareKid, status: 'ACTIVE' });
    expect(JSON.parse((await as(spare, 'me')).stdout).me.id).toBe(processor.principalId);
    expect((await json(adminKey, 'keys', 'revoke', spareKid, '--reason', 'spare not needed')).revokePrincipalKey).toMatchObject({ kid: spareKid, status: 'REVOKED', revokedReason: 'spare not needed' });
    expect((await as(spare, 'me')).code).toBe(2);
    // What is not a key id is named before anything is sent.
    const notKid = await as(adminKey, 'keys', 'revoke', '-x', '--reason', 'typo');
    expect(notKid.code).toBe(1);
    expect(notKid.stderr).toMatch(/<kid>: "-x" is not a key id/);
    const other = await as(adminKey, 'keys', 'rotate', '--new-key', spare, '--principal', processor.principalId);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--old-kid: name the key to revoke/);
  });

  it('review: the queue lists PENDING indicators; approve and reject with a note change the status, and the submitter reads the note', async () => {
    const a = await submitted(exchange);
    const b = await submitted(exchange);
    expect([a.status, b.status]).toEqual(['PENDING', 'PENDING']);
    const queue = (await json(curator.keyFile, 'review', 'queue', '--first', '100')).reviewQueue.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(queue).toEqual(expect.arrayContaining([a.id, b.id]));
    const human = await as(curator.keyFile, 'review', 'queue', '--first', '1');
    expect(human.stdout.trim().split('\n')).toHaveLength(2);
    expect(human.stderr).toMatch(/^more: pass --after \S+$/m);

    const approved = await as(curator.keyFile, 'review', 'approve', a.id, '--note', 'confirmed by hotline');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(new RegExp(`^${a.id}\\s+ACTIVE`, 'm'));
    expect(approved.stderr).toContain('done: 1 applied, 0 refused');
    const rejected = (await json(curator.keyFile, 'review', 'reject', b.id, '--note', 'benign: an exchange hot wallet'));
    expect(rejected).toEqual([expect.objectContaining({ id: b.id, ok: true, indicator: expect.objectContaining({ status: 'REJECTED' }) })]);
    expect(await indicator(a.id)).toMatchObject({ status: 'ACTIVE' });
    // The submitter hears back, with the curator's note.
    expect((await indicator(a.id, exchange.key)).statements).toEqual([{ review: { decision: 'APPROVE', note: 'confirmed by hotline', status: 'ACTIVE' } }]);
    expect((await indicator(b.id, exchange.key)).statements).toEqual([{ review: { decision: 'REJECT', note: 'benign: an exchange hot wallet', status: 'REJECTED' } }]);
    // A second decision on an indicator no longer PENDING is refused: exit 3, the row says why.
    const again = await as(curator.keyFile, 'review', 'approve', b.id);
    expect(again.code).toBe(3);
    expect(again.stdout).toMatch(new RegExp(`^${b.id}\\s+\\w+\\s+\\S`, 'm'));
  });

  it('review bulk: decisions from a CSV, one outcome per row; a bad id and a bad decision are named in their rows, the rest applied, exit 3', async () => {
    const [x, y, z] = [await submitted(exchange), await submitted(exchange), await submitted(exchange)];
    const file = path.join(dir, 'decisions.csv');
    writeFileSync(
      file,
      [
        'id,decision,note',
        `${x.id},APPROVE,seen on three sites`,
        '00000000-0000-4000-8000-000000000000,REJECT,no such indicator',
        `${y.id},reject,"benign, a payroll wallet"`,
        `${z.id},MAYBE,undecided`,
      ].join('\n') + '\n',
    );
    const res = await as(curator.keyFile, 'review', 'bulk', '--in', file);
    expect(res.code).toBe(3);
    const rows = res.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^line\s+id\s+result\s+error$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(0, 3))).toEqual([
      ['2', x.id, 'ACTIVE'],
      ['3', '00000000-0000-4000-8000-000000000000', 'NOT_FOUND'],
      ['4', y.id, 'REJECTED'],
      ['5', z.id, 'BAD_USER_INPUT'],
    ]);
    expect(rows[4]).toMatch(/decision: must be APPROVE or REJECT, not "MAYBE"/);
    expect(res.stderr).toContain('done: 2 applied, 2 refused (NOT_FOUND 1, BAD_USER_INPUT 1)');
    expect((await indicator(x.id)).status).toBe('ACTIVE');
    expect((await indicator(y.id, exchange.key)).statements[0].review).toMatchObject({ decision: 'REJECT', note: 'benign, a payroll wallet' });
    expect((await indicator(z.id)).status).toBe('PENDING');

    // --json: the outcomes, with their lines.
    writeFileSync(file, `id,decision\n${z.id},APPROVE\n`);
    expect(await json(curator.keyFile, 'review', 'bulk', '--in', file)).toEqual([expect.objectContaining({ line: 2, id: z.id, ok: true, code: null })]);
    expect((await indicator(z.id)).status).toBe('ACTIVE');
    // A file with a column it does not know: refused whole, nothing sent.
    writeFileSync(file, `id,verdict\n${z.id},REJECT\n`);
    const unknown = await as(curator.keyFile, 'review', 'bulk', '--in', file);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown column verdict/);
    expect((await indicator(z.id)).status).toBe('ACTIVE');
  });

  it('disputes: a member opens one (DISPUTED), the curator lists and resolves it — rejected: the status returns; upheld: REVOKED', async () => {
    const ind = await submitted(curator, { tlp: 'GREEN' });
    expect(ind.status).toBe('ACTIVE');
    const opened = (await json(exchange.keyFile, 'disputes', 'open', ind.id, '--reason', 'our own cold wallet')).disputeIndicator;
    expect(opened).toMatchObject({ status: 'OPEN', reason: 'our own cold wallet', indicator: { id: ind.id }, member: { id: exchange.memberId } });
    expect((await indicator(ind.id)).status).toBe('DISPUTED');
    const open = (await json(curator.keyFile, 'disputes', 'list', '--status', 'OPEN')).disputes.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(open).toContain(opened.id);
    const resolved = (await json(curator.keyFile, 'disputes', 'resolve', opened.id, '--upheld', 'false', '--note', 'seen in a scam campaign')).resolveDispute;
    expect(resolved).toMatchObject({ id: opened.id, status: 'REJECTED', resolution: 'seen in a scam campaign' });
    expect((await indicator(ind.id)).status).toBe('ACTIVE');
    expect((await json(exchange.keyFile, 'disputes', 'show', opened.id)).dispute).toMatchObject({ status: 'REJECTED' });

    const second = (await json(exchange.keyFile, 'disputes', 'open', ind.id, '--reason', 'new evidence')).disputeIndicator;
    const human = await as(curator.keyFile, 'disputes', 'resolve', second.id, '--upheld', 'true');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^status: UPHELD$/m);
    expect((await indicator(ind.id)).status).toBe('REVOKED');
  });

  it('exclusions: add (statements about the value are then refused EXCLUDED), list, remove', async () => {
    const value = `payroll-${Date.now()}.example`;
    const added = (await json(curator.keyFile, 'exclusions', 'add', '--kind', 'DOMAIN', '--value', value.toUpperCase(), '--reason', 'a payroll provider')).addExclusion;
    expect(added).toMatchObject({ kind: 'DOMAIN', value, reason: 'a payroll provider', removedAt: null, existingIndicator: null });
    const refused = await app.gql(SUBMIT, { jws: await statement(curator.key, { iss: curator.principalId, indicator: { kind: 'DOMAIN', value } }) }, curator.key);
    expect(refused.errors?.[0].extensions?.code).toBe('EXCLUDED');
    const listed = await as(curator.keyFile, 'exclusions', 'list');
    expect(listed.stdout).toMatch(new RegExp(`^${added.id}\\s+DOMAIN\\s+-\\s+${value.replace(/\./g, '\\.')}\\s+-\\s+a payroll provider$`, 'm'));
    expect((await json(curator.keyFile, 'exclusions', 'remove', added.id)).removeExclusion).toMatchObject({ id: added.id, removedAt: expect.any(String) });
    expect((await json(curator.keyFile, 'exclusions', 'list')).exclusions.map((e: { id: string }) => e.id)).not.toContain(added.id);
    expect((await json(curator.keyFile, 'exclusions', 'list', '--include-removed')).exclusions).toEqual(expect.arrayContaining([expect.objectContaining({ id: added.id, removedBy: curator.principalId })]));
    expect((await submitted(curator, { indicator: { kind: 'DOMAIN', value } })).status).toBe('ACTIVE');
  });

  it('exclusions add: an existing indicator is named with a warning and left ACTIVE; with --revoke-matching it is revoked in the same call', async () => {
    const kept = `kept-${Date.now()}.example`;
    const keptInd = await submitted(curator, { tlp: 'GREEN', indicator: { kind: 'DOMAIN', value: kept } });
    expect(keptInd.status).toBe('ACTIVE');
    const warned = await as(curator.keyFile, 'exclusions', 'add', '--kind', 'DOMAIN', '--value', kept, '--reason', 'a charity');
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(new RegExp(`^existingIndicator\\.id: ${keptInd.id}$`, 'm'));
    expect(warned.stdout).toMatch(/^warning: \S/m);
    expect(warned.stdout).not.toMatch(/^revokedIndicator/m);
    expect(warned.stderr).toMatch(/^warning: \S/m);
    expect((await indicator(keptInd.id)).status).toBe('ACTIVE');

    const gone = `gone-${Date.now()}.example`;
    const goneInd = await submitted(curator, { tlp: 'GREEN', indicator: { kind: 'DOMAIN', value: gone } });
    const revoked = await as(curator.keyFile, 'exclusions', 'add', '--kind', 'DOMAIN', '--value', gone, '--reason', 'a school', '--revoke-matching');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(new RegExp(`^revokedIndicator\\.id: ${goneInd.id}$`, 'm'));
    expect(revoked.stdout).toMatch(/^revokedIndicator\.status: REVOKED$/m);
    expect(revoked.stdout).not.toMatch(/^warning:/m);
    expect(revoked.stderr).not.toMatch(/warning/);
    expect((await indicator(goneInd.id)).status).toBe('REVOKED');
  });

  it('indicators show (status, confidence, category, statements, sightings, reports), revoke and expire; the member that acted is notified and acknowledges', async () => {
    const ind = await submitted(curator, { tlp: 'GREEN', confidence: 70 });
    expect((await as(exchange.keyFile, 'sightings', 'report', ind.id, '--kind', 'ACTIONED', '--note', 'frozen funds')).code).toBe(0);
    const shown = await as(curator.keyFile, 'indicators', 'show', ind.id);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^status: ACTIVE$/m);
    expect(shown.stdout).toMatch(/^confidence: 70$/m);
    expect(shown.stdout).toMatch(/^category: CSAM_COMMERCIAL$/m);
    expect(shown.stdout).toMatch(/^statements: 1$/m);
    expect(shown.stdout).toMatch(/^sightings\.actioned: 1$/m);
    expect(shown.stdout).toMatch(/^sightingReports:\n {2}member\s+kind\s+reportCount\s+createdAt\s+note\n {2}Exchange A\s+ACTIONED\s+1\s+\S+\s+frozen funds$/m);
    const data = (await json(curator.keyFile, 'indicators', 'show', ind.id)).indicator;
    expect(data).toMatchObject({ id: ind.id, status: 'ACTIVE', statements: [expect.objectContaining({ issuer: expect.objectContaining({ id: curator.principalId }) })] });
    expect(data.sightingReports).toEqual([expect.objectContaining({ kind: 'ACTIONED', reportCount: 1, note: 'frozen funds', member: { id: exchange.memberId, name: 'Exchange A' } })]);
    const none = await as(curator.keyFile, 'indicators', 'show', '00000000-0000-4000-8000-000000000000');
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no indicator 00000000-0000-4000-8000-000000000000/);

    // A stale expectation is refused (exit 2) and changes nothing; a bad one is named (exit 1).
    const stale = await as(curator.keyFile, 'indicators', 'revoke', ind.id, '--reason', 'seized', '--expected-status', 'PENDING');
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/^error CONFLICT: /m);
    expect((await as(curator.keyFile, 'indicators', 'revoke', ind.id, '--reason', 'x', '--expected-status', 'GONE')).code).toBe(1);
    expect((await indicator(ind.id)).status).toBe('ACTIVE');
    const unread = async () => (await json(exchange.keyFile, 'notifications', 'list', '--unread')).notifications as { id: string; kind: string; message: string; readAt: string | null }[];
    expect((await unread()).filter((n) => n.message.includes('seized by the police'))).toEqual([]);
    const revoked = await as(curator.keyFile, 'indicators', 'revoke', ind.id, '--reason', 'seized by the police');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^status: REVOKED$/m);
    expect((await indicator(ind.id)).status).toBe('REVOKED');

    // The exchange acted on it: told, and it acknowledges.
    const told = (await unread()).filter((n) => n.message.includes('seized by the police'));
    expect(told).toEqual([expect.objectContaining({ kind: 'REVOKED', readAt: null })]);
    const listed = await as(exchange.keyFile, 'notifications', 'list');
    expect(listed.stdout.split('\n')[0]).toMatch(/^id\s+kind\s+createdAt\s+readAt\s+indicator\.id\s+message$/);
    expect(listed.stdout).toMatch(new RegExp(`^${told[0].id}\\s+REVOKED\\s+\\S+\\s+-\\s+\\S+\\s+.*seized by the police`, 'm'));
    const acked = await as(exchange.keyFile, 'notifications', 'ack', told[0].id);
    expect(acked.code).toBe(0);
    expect(acked.stdout).toMatch(/^readAt: \d{4}-\S+Z$/m);
    expect((await unread()).map((n) => n.id)).not.toContain(told[0].id);
    expect((await json(exchange.keyFile, 'notifications', 'list')).notifications).toContainEqual(expect.objectContaining({ id: told[0].id, readAt: expect.any(String) }));

    const other = await submitted(curator, { tlp: 'GREEN' });
    expect((await json(curator.keyFile, 'indicators', 'expire', other.id)).expireIndicator).toMatchObject({ id: other.id, status: 'EXPIRED' });
    expect((await indicator(other.id)).status).toBe('EXPIRED');
    const notCurator = await as(exchange.keyFile, 'indicators', 'expire', ind.id);
    expect(notCurator.code).toBe(2);
    expect(notCurator.stderr).toMatch(/^error FORBIDDEN: /m);
  });

  it('categories: one added is accepted in statements and listed; retired, statements with it are refused', async () => {
    const name = 'CARD_TESTING_CLI';
    const submit = async () => (await app.gql(SUBMIT, { jws: await statement(exchange.key, { iss: exchange.principalId, category: name }) }, exchange.key));
    expect((await submit()).errors?.[0].extensions?.code).toBe('BAD_CLAIMS');
    const noDescription = await as(curator.keyFile, 'categories', 'add', '--name', name);
    expect(noDescription.code).toBe(1);
    expect(noDescription.stderr).toMatch(/required option '--description <text>' not specified/);
    const forbidden = await as(exchange.keyFile, 'categories', 'add', '--name', name, '--description', 'x');
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toMatch(/^error FORBIDDEN: /m);

    const added = await as(curator.keyFile, 'categories', 'add', '--name', name, '--description', 'Merchants used to test stolen cards.');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(new RegExp(`^name: ${name}$`, 'm'));
    expect(added.stdout).toMatch(new RegExp(`^createdBy: ${curator.principalId}$`, 'm'));
    expect((await as(exchange.keyFile, 'categories', 'list')).stdout).toMatch(new RegExp(`^${name}\\s+-\\s+Merchants used to test stolen cards\\.$`, 'm'));
    const accepted = await submit();
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data!.submitStatement.indicator.status).toBe('PENDING');

    const retired = (await json(curator.keyFile, 'categories', 'retire', name, '--reason', 'merged into CSAM_PAYMENT_INTERMEDIARY')).retireCategory;
    expect(retired).toMatchObject({ name, retiredAt: expect.any(String), retireReason: 'merged into CSAM_PAYMENT_INTERMEDIARY' });
    expect((await submit()).errors?.[0].extensions?.code).toBe('BAD_CLAIMS');
    expect((await json(exchange.keyFile, 'categories', 'list')).categories.map((c: { name: string }) => c.name)).not.toContain(name);
    expect((await json(exchange.keyFile, 'categories', 'list', '--include-retired')).categories).toContainEqual(expect.objectContaining({ name, retireReason: 'merged into CSAM_PAYMENT_INTERMEDIARY' }));
  });

  it('sightings report: counted on the indicator; a bad kind is named', async () => {
    const ind = await submitted(curator, { tlp: 'GREEN' });
    const seen = (await json(exchange.keyFile, 'sightings', 'report', ind.id, '--kind', 'actioned', '--note', 'frozen')).reportSighting;
    expect(seen).toMatchObject({ kind: 'ACTIONED', note: 'frozen', member: { id: exchange.memberId }, indicator: { id: ind.id, sightings: { actioned: 1 } } });
    const human = await as(exchange.keyFile, 'sightings', 'report', ind.id, '--kind', 'SEEN');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^indicator\.sightings\.seen: 1$/m);
    expect((await indicator(ind.id)).sightings).toEqual({ seen: 1, falsePositive: 0, actioned: 1 });
    const bad = await as(exchange.keyFile, 'sightings', 'report', ind.id, '--kind', 'LIKED');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/'--kind <kind>' argument 'LIKED' is invalid\. must be one of SEEN, FALSE_POSITIVE, ACTIONED/);
  });

  it('audit events: lists the events just made, filtered and paged', async () => {
    const suspends = (await json(curator.keyFile, 'audit', 'events', '--action', 'member.suspend', '--since', started)).auditEvents.edges.map((e: { node: unknown }) => e.node);
    expect(suspends).toEqual([expect.objectContaining({ action: 'member.suspend', subjectId: processor.memberId, actorPrincipalId: app.adminId })]);
    const created = (await json(curator.keyFile, 'audit', 'events', '--action', 'member.create', '--since', started)).auditEvents.edges.map((e: { node: { subjectId: string } }) => e.node.subjectId);
    expect(created).toEqual([curator.memberId, exchange.memberId, processor.memberId]);
    // Human output: a table, and the next page's cursor on stderr.
    const page = await as(curator.keyFile, 'audit', 'events', '--action', 'principal_key.revoke', '--first', '1');
    expect(page.code).toBe(0);
    const lines = page.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^index\s+at\s+action\s+actorPrincipalId\s+subjectId$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\d+\s+\S+\s+principal_key\.revoke\s/);
    const after = /^more: pass --after (\S+)$/m.exec(page.stderr)![1];
    const next = (await json(curator.keyFile, 'audit', 'events', '--action', 'principal_key.revoke', '--after', after)).auditEvents.edges;
    expect(next.length).toBeGreaterThanOrEqual(1);
    expect(next[0].node.index).toBeGreaterThan(Number(lines[1].split(/\s+/)[0]));
    const badTime = await as(curator.keyFile, 'audit', 'events', '--since', 'yesterday');
    expect(badTime.code).toBe(1);
    expect(badTime.stderr).toMatch(/'--since <time>' argument 'yesterday' is invalid/);
  });
});
