import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { superuserQuery } from '../support/database.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';
import { CLI, cordon } from '../support/cli.js';


const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8'));

/** A member's principal whose private key is a file made by `cordon keygen`, as a member has it. */
async function cliPrincipal(app: TestApp, dir: string, name: string, kind: string, roles: string[]) {
  const keyFile = path.join(dir, `${name}.json`);
  const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
  const member = await app.gql('mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }', { i: { name, kind } });
  const principal = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
    i: { memberId: member.data!.createMember.id, name, roles, publicJwk: JSON.parse(pub) },
  });
  return { keyFile, memberId: member.data!.createMember.id as string, principalId: principal.data!.createPrincipal.id as string };
}

describe('members do their jobs with the CLI alone (issue 18)', () => {
  let app: TestApp;
  let dir: string;
  let hotline: Awaited<ReturnType<typeof cliPrincipal>>;
  let exchange: Awaited<ReturnType<typeof cliPrincipal>>;
  const statementCount = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM statement'))[0].n;

  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-jobs-'));
    hotline = await cliPrincipal(app, dir, 'Hotline CLI', 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    exchange = await cliPrincipal(app, dir, 'Exchange CLI', 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sign: one statement from flags (and a claims file) → a compact JWS the service accepts; a bad claim is named and nothing is printed', async () => {
    const value = nextAddress();
    const signed = await cordon([
      'sign', '--kind', 'WALLET_ADDRESS', '--network', 'ethereum', '--value', value, '--category', 'CSAM_COMMERCIAL', '--confidence', '90', '--tlp', 'AMBER',
      '--site', 'https://pay.example/checkout', '--reference', 'case 17', '--key', hotline.keyFile, '--url', app.url,
    ]);
    expect(signed).toMatchObject({ code: 0, stderr: '' });
    const jws = signed.stdout.trim();
    const header = JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8'));
    expect(header).toMatchObject({ typ: 'cordon-statement+jwt', alg: 'ES256' });
    expect(payloadOf(jws)).toMatchObject({
      iss: hotline.principalId,
      indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value },
      category: 'CSAM_COMMERCIAL',
      confidence: 90,
      tlp: 'AMBER',
      evidence: { sites: ['https://pay.example/checkout'], reference: 'case 17' },
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const submitted = await cordon(['graphql', 'mutation($jws: String!) { submitStatement(jws: $jws) { indicator { status } } }', '--variables', JSON.stringify({ jws }), '--key', hotline.keyFile, '--url', app.url]);
    expect(submitted.code).toBe(0);
    expect(JSON.parse(submitted.stdout)).toEqual({ submitStatement: { indicator: { status: 'ACTIVE' } } });

    const claimsFile = path.join(dir, 'claims.json');
    writeFileSync(claimsFile, JSON.stringify({ indicator: { kind: 'DOMAIN', value: 'shop.example' }, category: 'CSAM_COMMERCIAL', confidence: 150, tlp: 'GREEN' }));
    const before = await statementCount();
    const bad = await cordon(['sign', '--claims', claimsFile, '--key', hotline.keyFile, '--url', app.url]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/BAD_CLAIMS: claims\.confidence: must be a whole number from 0 to 100/);
    // A category outside the vocabulary is named with the allowed ones, before anything is signed.
    const typo = await cordon(['sign', '--claims', claimsFile, '--confidence', '60', '--category', 'CSAM_COMERCIAL', '--key', hotline.keyFile, '--url', app.url]);
    expect(typo).toMatchObject({ code: 1, stdout: '' });
    expect(typo.stderr).toMatch(/BAD_CLAIMS: claims\.category: CSAM_COMERCIAL is not a category in force; allowed: CSAM_ADVERTISING, CSAM_COMMERCIAL, /);
    // Flags override the file.
    const fixed = await cordon(['sign', '--claims', claimsFile, '--confidence', '60', '--iss', hotline.principalId, '--key', hotline.keyFile]);
    expect(fixed.code).toBe(0);
    expect(payloadOf(fixed.stdout.trim())).toMatchObject({ indicator: { kind: 'DOMAIN', value: 'shop.example' }, confidence: 60, iss: hotline.principalId });
    expect(await statementCount()).toBe(before);
  });

  it('submit: signs and sends a CSV in batches, one outcome per row with code and receipt; a re-run submits nothing twice; receipts verify offline', async () => {
    const values = Array.from({ length: 7 }, () => nextAddress());
    const input = path.join(dir, 'statements.csv');
    writeFileSync(
      input,
      [
        'value,kind,network,tlp,sites,reference',
        ...values.map((v, i) => (i === 2 ? `0xnot-an-address,WALLET_ADDRESS,ethereum,AMBER,,row ${i}` : `${v},WALLET_ADDRESS,ethereum,${i % 2 ? 'GREEN' : 'AMBER'},https://s${i}.example/a|https://t${i}.example/b,row ${i}`)),
        `${values[0]},WALLET_ADDRESS,ethereum,AMBER,https://s0.example/a|https://t0.example/b,row 0`, // the same row again: the same jti
      ].join('\n') + '\n',
    );
    const output = path.join(dir, 'outcomes.csv');
    const args = ['submit', '--in', input, '--out', output, '--batch', '3', '--category', 'CSAM_COMMERCIAL', '--confidence', '70', '--key', exchange.keyFile, '--url', app.url];
    const before = await statementCount();
    const first = await cordon(args);
    // A refused row makes the exit code 3; its line says why.
    expect(first.code).toBe(3);
    expect(first.stderr).toContain('submitted 3/8');
    expect(first.stderr).toMatch(/done: 7 accepted, 1 refused \(INVALID_VALUE 1\)/);
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^# cordon submit input-bytes=\d+ input-sha256=[0-9a-f]{64}$/);
    expect(lines[1]).toBe('line,jti,ok,code,error,indicator_id,statement_id,receipt');
    const outcomes = parseCsv(lines.slice(2).join('\n')) as string[][];
    expect(outcomes).toHaveLength(8);
    expect(outcomes.map((o) => o[2])).toEqual(['true', 'true', 'false', 'true', 'true', 'true', 'true', 'true']);
    expect(outcomes[2][3]).toBe('INVALID_VALUE');
    expect(outcomes[2][4]).toMatch(/^claims\.indicator\.value: /);
    for (const o of outcomes.filter((x) => x[2] === 'true')) expect(o[7]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The duplicate row got the same jti and the same statement: 6 distinct statements stored.
    expect(outcomes[7][1]).toBe(outcomes[0][1]);
    expect(outcomes[7][6]).toBe(outcomes[0][6]);
    expect(await statementCount()).toBe(before + 6);

    // A re-run: everything has an outcome already; nothing is sent.
    const again = await cordon(args);
    expect(again.stderr).toContain('resuming: 8 of 8');
    expect(await statementCount()).toBe(before + 6);

    // A crash after the signed statements went out but before their outcomes were written, with
    // half a line on disk: the next run repairs the file and sends the same bytes again — the
    // service answers with the first results; nothing is stored twice.
    writeFileSync(output, lines.slice(0, 6).join('\n') + '\n' + lines[6].slice(0, 30));
    const resumed = await cordon(args);
    expect(resumed.stderr).toContain('dropped a torn last row');
    expect(resumed.stderr).toContain('resuming: 4 of 8');
    expect(readFileSync(output, 'utf8').trim().split('\n')).toEqual(lines);
    expect(await statementCount()).toBe(before + 6);

    // Even with the signed copies lost, a row is never taken twice: its jti is derived from the row.
    rmSync(`${output}.jws`);
    writeFileSync(output, lines.slice(0, 7).join('\n') + '\n');
    const replayed = await cordon(args);
    expect((parseCsv(readFileSync(output, 'utf8').trim().split('\n').slice(7).join('\n')) as string[][]).map((o) => o[3])).toEqual(['REPLAY', 'REPLAY', 'REPLAY']);
    expect(await statementCount()).toBe(before + 6);
    expect(replayed.code).toBe(3);

    // Another input with the same --out is refused, and the file is left alone.
    const other = path.join(dir, 'other.csv');
    writeFileSync(other, `value,kind,network,tlp\n${nextAddress()},WALLET_ADDRESS,ethereum,AMBER\n`);
    const kept = readFileSync(output, 'utf8');
    const refused = await cordon(['submit', '--in', other, '--out', output, '--category', 'CSAM_COMMERCIAL', '--confidence', '70', '--key', exchange.keyFile, '--url', app.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds the results of another input .* resume with the input it was made from, or pass a new --out/);
    expect(readFileSync(output, 'utf8')).toBe(kept);

    // Receipts, offline: against a saved copy of the exchange's JWKS.
    const jwksFile = path.join(dir, 'jwks.json');
    writeFileSync(jwksFile, await (await fetch(`${app.url}/.well-known/jwks.json`)).text());
    const receipt = outcomes[0][7];
    const statementJws = (await superuserQuery<{ jws: string }>(app.db, 'SELECT jws FROM statement WHERE id = $1', [outcomes[0][6]]))[0].jws;
    const stmtFile = path.join(dir, 'stmt.jws');
    writeFileSync(stmtFile, statementJws);
    const ok = await cordon(['receipt', 'verify', receipt, '--jwks', jwksFile, '--statement', `@${stmtFile}`]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, statementSha256: createHash('sha256').update(statementJws).digest('hex'), indicatorId: outcomes[0][5], auditIndex: expect.any(Number) });
    const wrong = await cordon(['receipt', 'verify', receipt, '--jwks', jwksFile, '--statement', outcomes[1][7]]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toEqual({ valid: false, reason: expect.stringMatching(/^the receipt is for another statement/) });
    const [h, p, sig] = receipt.split('.');
    const tampered = `${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const forged = await cordon(['receipt', 'verify', tampered, '--jwks', jwksFile]);
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.stdout).reason).toMatch(/signature does not verify/);
  });

  it('submit names a row’s missing or malformed claim in its outcome line, and goes on with the rest', async () => {
    const input = path.join(dir, 'incomplete.csv');
    writeFileSync(input, `kind,value,tlp,confidence,exp\nDOMAIN,a-${Date.now()}.example,GREEN,,\nDOMAIN,b-${Date.now()}.example,GREEN,high,\nDOMAIN,c-${Date.now()}.example,GREEN,50,soon\nDOMAIN,d-${Date.now()}.example,GREEN,50,\n`);
    const output = path.join(dir, 'incomplete-outcomes.csv');
    const res = await cordon(['submit', '--in', input, '--out', output, '--category', 'CSAM_COMMERCIAL', '--key', exchange.keyFile, '--url', app.url]);
    expect(res.code).toBe(3);
    const outcomes = parseCsv(readFileSync(output, 'utf8').trim().split('\n').slice(2).join('\n')) as string[][];
    expect(outcomes.map((o) => [o[2], o[3], o[4].split(':')[0]])).toEqual([
      ['false', 'BAD_CLAIMS', 'claims.confidence'],
      ['false', 'BAD_CLAIMS', 'claims.confidence'],
      ['false', 'BAD_CLAIMS', 'claims.exp'],
      ['true', '', ''],
    ]);
  });

  it('submit reads NDJSON claims too, and refuses a line that sets iss or iat', async () => {
    const input = path.join(dir, 'statements.ndjson');
    writeFileSync(
      input,
      [
        JSON.stringify({ indicator: { kind: 'DOMAIN', value: `shop-${Date.now()}.example` }, category: 'CSAM_COMMERCIAL', confidence: 80, tlp: 'GREEN' }),
        JSON.stringify({ indicator: { kind: 'DOMAIN', value: 'x.example' }, iss: hotline.principalId, category: 'CSAM_COMMERCIAL', confidence: 80, tlp: 'GREEN' }),
        '{ not json',
      ].join('\n') + '\n',
    );
    const output = path.join(dir, 'ndjson-outcomes.csv');
    const res = await cordon(['submit', '--in', input, '--out', output, '--key', exchange.keyFile, '--url', app.url]);
    expect(res.code).toBe(3);
    const outcomes = parseCsv(readFileSync(output, 'utf8').trim().split('\n').slice(2).join('\n')) as string[][];
    expect(outcomes.map((o) => [o[0], o[2], o[3]])).toEqual([
      ['1', 'true', ''],
      ['2', 'false', 'BAD_CLAIMS'],
      ['3', 'false', 'MALFORMED'],
    ]);
  });

  it('screen: refuses an output made from another input, repairs a torn last row, and killed at random points ends identical to an uninterrupted run', async () => {
    const coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR']);
    const values = Array.from({ length: 300 }, () => nextAddress());
    for (const i of [7, 150, 291]) {
      expect((await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: values[i] } }) }, coordinator.key)).errors).toBeUndefined();
    }
    const input = path.join(dir, 'screen-in.csv');
    writeFileSync(input, values.join('\n') + '\n');
    const reference = path.join(dir, 'screen-reference.csv');
    const base = ['--in', input, '--batch', '4', '--key', exchange.keyFile, '--url', app.url];
    expect((await cordon(['screen', ...base, '--out', reference])).code).toBe(0);
    const expected = readFileSync(reference, 'utf8');
    expect(expected.trim().split('\n')).toHaveLength(302);

    // Another input, same output: refused, output untouched (before: "resuming: 2 of 2 … done: 0 screened", exit 0).
    const other = path.join(dir, 'screen-other.csv');
    writeFileSync(other, values.slice(0, 50).reverse().join('\n') + '\n');
    const refused = await cordon(['screen', '--in', other, '--out', reference, '--key', exchange.keyFile, '--url', app.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/holds the results of another input/);
    expect(readFileSync(reference, 'utf8')).toBe(expected);

    // A torn last row (the process died mid-write): cut off and screened again, nothing glued or lost.
    const torn = path.join(dir, 'screen-torn.csv');
    const rows = expected.split('\n');
    writeFileSync(torn, rows.slice(0, 40).join('\n') + '\n' + rows[40].slice(0, 17));
    const repaired = await cordon(['screen', ...base, '--out', torn]);
    expect(repaired.stderr).toContain('dropped a torn last row');
    expect(readFileSync(torn, 'utf8')).toBe(expected);

    // Killed (SIGKILL) at random moments, run again each time until it finishes (the sixth run is left alone).
    const killed = path.join(dir, 'screen-killed.csv');
    const rowsAtKill: number[] = [];
    for (let attempt = 0; ; attempt++) {
      const child = spawn(process.execPath, [CLI, 'screen', ...base, '--out', killed], { env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // Killed once it has written a random number of rows (on a busy machine a fixed delay may
      // fall before the first row): a run cut off part-way, at a point nobody chose.
      const target = 10 + Math.floor(Math.random() * 270);
      const written = () => (existsSync(killed) ? readFileSync(killed, 'utf8').split('\n').length - 3 : 0);
      const timer =
        attempt < 5
          ? setInterval(() => {
              if (written() >= target) child.kill('SIGKILL');
            }, 5)
          : undefined;
      const code = await exited;
      clearInterval(timer);
      if (code === 0) break;
      rowsAtKill.push(existsSync(killed) ? readFileSync(killed, 'utf8').split('\n').length - 3 : 0);
    }
    // Some runs were cut off part-way (neither before the first row nor after the last).
    expect({ rowsAtKill, partial: rowsAtKill.some((n) => n > 0 && n < 300) }).toEqual({ rowsAtKill, partial: true });
    expect(readFileSync(killed, 'utf8')).toBe(expected);
  });
});
