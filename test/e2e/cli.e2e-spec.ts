import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parsePrivateJwk, verifyBearerToken } from '@app/signing';
import { startTestApp, type TestApp } from '../support/server.js';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const CLI = path.join(ROOT, 'dist/apps/cli/src/main.js');

function cordon(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
}

describe('cordon CLI (compiled, as a user runs it)', () => {
  let app: TestApp;
  let dir: string;
  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-cli-'));
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keygen writes a 0600 private JWK and prints the public JWK with its kid', async () => {
    const out = path.join(dir, 'k.json');
    const { stdout, stderr } = await cordon(['keygen', '--alg', 'EdDSA', '--out', out]);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const privateJwk = await parsePrivateJwk(JSON.parse(readFileSync(out, 'utf8')));
    const publicJwk = JSON.parse(stdout);
    expect(publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: privateJwk.x, alg: 'EdDSA', kid: privateJwk.kid });
    expect(publicJwk.d).toBeUndefined();
    expect(stderr).toContain(privateJwk.kid);
    await expect(cordon(['keygen', '--out', out])).rejects.toMatchObject({ stderr: expect.stringContaining('exists') });
  });

  it('token prints a bearer token the service accepts; me and graphql call the service with it', async () => {
    const keyFile = path.join(dir, 'screener.json');
    const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
    const member = await app.gql('mutation { createMember(input: { name: "CLI Processor", kind: CARD_PROCESSOR }) { id } }');
    const created = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.data!.createMember.id, name: 'cli', roles: ['SCREENER'], publicJwk: JSON.parse(pub) },
    });
    const principalId = created.data!.createPrincipal.id;

    const { stdout: token } = await cordon(['token', '--key', keyFile, '--lifetime', '60']);
    const jwk = JSON.parse(pub);
    const verified = await verifyBearerToken(token.trim(), {
      audience: 'cordon',
      resolveKey: async (kid) => (kid === jwk.kid ? { publicJwk: jwk, principalId } : null),
    });
    expect(verified.expiresAt - verified.issuedAt).toBe(60);

    const { stdout: me } = await cordon(['me', '--key', keyFile, '--url', app.url]);
    expect(JSON.parse(me).me).toMatchObject({ id: principalId, name: 'cli', roles: ['SCREENER'], member: { name: 'CLI Processor' } });

    const { stdout: members } = await cordon(['graphql', '{ members { name } }'], { CORDON_KEY: keyFile, CORDON_URL: app.url });
    expect(JSON.parse(members).members.map((m: { name: string }) => m.name)).toContain('CLI Processor');
  });

  it('graphql exits 2 and prints the error code when the service refuses', async () => {
    const keyFile = path.join(dir, 'nobody.json');
    await cordon(['keygen', '--out', keyFile]);
    await expect(cordon(['me', '--key', keyFile, '--url', app.url])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('UNAUTHENTICATED'),
    });
  });

  it('canonical prints the canonical form and fingerprint offline, and refuses with the reason', async () => {
    const { stdout } = await cordon(['canonical', 'WALLET_ADDRESS', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '--network', 'polygon']);
    expect(JSON.parse(stdout)).toEqual({
      kind: 'WALLET_ADDRESS',
      network: 'ethereum',
      canonical: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
      fingerprint: createHash('sha256').update('WALLET_ADDRESS|ethereum|0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed').digest('hex'),
      wallet: { format: 'account', evmAlias: 'polygon' },
    });
    await expect(cordon(['canonical', 'WALLET_ADDRESS', 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('refused (TESTNET_ADDRESS)'),
    });
  });

  it('token refuses a lifetime the service would refuse', async () => {
    const keyFile = path.join(dir, 'k.json');
    await expect(cordon(['token', '--key', keyFile, '--lifetime', '301'])).rejects.toMatchObject({
      stderr: expect.stringContaining('300 seconds'),
    });
  });

  it('screen: screens a file in batches into a CSV, with plain progress lines off a terminal, and resumes', async () => {
    const { createMemberWithPrincipal } = await import('../support/server.js');
    const { nextAddress, statement, SUBMIT } = await import('../support/statements.js');
    const coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR']);
    const values = Array.from({ length: 25 }, () => nextAddress());
    for (const i of [3, 14, 22]) {
      const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: values[i] } }) }, coordinator.key);
      expect(res.errors).toBeUndefined();
    }
    const keyFile = path.join(dir, 'file-screener.json');
    const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
    const member = await app.gql('mutation { createMember(input: { name: "File Screener", kind: CRYPTO_EXCHANGE }) { id } }');
    await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.data!.createMember.id, name: 'batch', roles: ['SCREENER'], publicJwk: JSON.parse(pub) },
    });
    const input = path.join(dir, 'values.csv');
    const output = path.join(dir, 'results.csv');
    writeFileSync(input, ['value,network', ...values.map((v, i) => (i === 5 ? 'not-an-address,ethereum' : `${v},ethereum`))].join('\n') + '\n');
    const args = ['screen', '--in', input, '--out', output, '--batch', '10', '--key', keyFile, '--url', app.url];
    const first = await cordon(args);
    expect(first.stderr).toContain('screened 10/25');
    expect(first.stderr).toContain('done: 25 screened, 3 matches');
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(27);
    // The first line proves which input the results are for (size and SHA-256), so a resume can check it.
    expect(lines[0]).toBe(`# cordon screen input-bytes=${statSync(input).size} input-sha256=${createHash('sha256').update(readFileSync(input)).digest('hex')}`);
    expect(lines[1]).toBe('input,kind,network,normalized,valid,error,match,matchedVia,indicatorId,status,confidence,category');
    expect(lines[5]).toMatch(/,true,,true,EXACT,[0-9a-f-]{36},ACTIVE,80,CSAM_COMMERCIAL$/);
    expect(lines[7]).toMatch(/^not-an-address,WALLET_ADDRESS,ethereum,,false,/);
    // Interrupted after 12 rows: the next run screens only the rest.
    writeFileSync(output, lines.slice(0, 14).join('\n') + '\n');
    const resumed = await cordon(args);
    expect(resumed.stderr).toContain('resuming: 12 of 25');
    expect(resumed.stderr).toContain('done: 13 screened, 2 matches, 12 from an earlier run');
    expect(readFileSync(output, 'utf8').trim().split('\n')).toEqual(lines);
  });

  it('sync: keeps a local list of matchable fingerprints from the feed, and drops a revoked one', async () => {
    const { createMemberWithPrincipal } = await import('../support/server.js');
    const { nextAddress, statement, SUBMIT } = await import('../support/statements.js');
    const coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    const value = nextAddress();
    const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, coordinator.key);
    const { id, fingerprint } = res.data!.submitStatement.indicator;
    const keyFile = path.join(dir, 'syncer.json');
    const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
    const member = await app.gql('mutation { createMember(input: { name: "Syncing Exchange", kind: CRYPTO_EXCHANGE }) { id } }');
    await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.data!.createMember.id, name: 'sync', roles: ['SCREENER'], publicJwk: JSON.parse(pub) },
    });
    const out = path.join(dir, 'cache');
    const args = ['sync', '--out', out, '--key', keyFile, '--url', app.url];
    await cordon(args);
    expect(readFileSync(path.join(out, 'fingerprints.txt'), 'utf8').split('\n')).toContain(fingerprint);
    const revoked = await app.gql(`mutation($id: ID!) { revokeIndicator(id: $id, reason: "not abuse") { id } }`, { id }, coordinator.key);
    expect(revoked.errors).toBeUndefined();
    const second = await cordon(args);
    expect(second.stderr).toMatch(/synced: \d+ changes read/);
    expect(Number(/synced: (\d+) changes/.exec(second.stderr)![1])).toBeLessThanOrEqual(2); // only what changed since
    expect(readFileSync(path.join(out, 'fingerprints.txt'), 'utf8').split('\n')).not.toContain(fingerprint);
  });
});
