import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';
import { CLI, cordon } from '../support/cli.js';


const COLUMNS = 'input,kind,network,normalized,valid,error,match,matchedVia,indicatorId,status,confidence,category';
type Out = Record<string, string>;

/** The data rows of a results file (after the resume line and the column header), by column name. */
function results(file: string): Out[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  expect(lines[0]).toMatch(/^# cordon screen input-bytes=\d+ input-sha256=[0-9a-f]{64}$/);
  expect(lines[1]).toBe(COLUMNS);
  return parseCsv(lines.slice(1).join('\n'), { columns: true }) as Out[];
}

describe('cordon screen reads a CSV by its header: several kinds, defanged values, tickers (issue 18.7)', () => {
  let app: TestApp;
  let dir: string;
  let keyFile: string;
  const listed = { wallet: nextAddress(), bitcoin: '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggu' };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-screen-'));
    const coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR']);
    const submit = async (name: string, overrides: Record<string, unknown>) => {
      const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, ...overrides }) }, coordinator.key);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      ids[name] = res.data!.submitStatement.indicator.id;
    };
    await submit('wallet', { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed.wallet }, confidence: 91, category: 'CSAM_COMMERCIAL' });
    await submit('bitcoin', { indicator: { kind: 'WALLET_ADDRESS', network: 'bitcoin', value: listed.bitcoin }, confidence: 77, category: 'CSAM_PAYMENT_INTERMEDIARY' });
    await submit('domain', { indicator: { kind: 'DOMAIN', value: 'pay-abuse.example.com' }, confidence: 64, category: 'CSAM_DISTRIBUTION' });
    await submit('url', { indicator: { kind: 'URL', value: 'https://shop.example.org/checkout?id=1' }, confidence: 55, category: 'CSAM_COMMERCIAL' });
    // The screener: a key made by `cordon keygen`, as a member has it.
    keyFile = path.join(dir, 'screener.json');
    const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
    const member = await app.gql('mutation { createMember(input: { name: "CSV Screener", kind: CRYPTO_EXCHANGE }) { id } }');
    const principal = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.data!.createMember.id, name: 'csv', roles: ['SCREENER'], publicJwk: JSON.parse(pub) },
    });
    expect(principal.errors).toBeUndefined();
  });
  afterAll(async () => {
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const screen = (input: string, output: string, extra: string[] = []) => cordon(['screen', '--in', input, '--out', output, '--key', keyFile, '--url', app.url, ...extra]);

  it('reads value, kind and network by name, kinds mixed, each row’s own kind or --kind; writes kind, normalized, confidence, category, matchedVia; a bad kind is that row’s error', async () => {
    const unlisted = nextAddress();
    const input = path.join(dir, 'mixed.csv');
    writeFileSync(
      input,
      [
        'value,kind,network,customer',
        `${listed.wallet},WALLET_ADDRESS,eth,c1`,
        `${listed.bitcoin},wallet_address,BTC,c2`,
        'pay-abuse[.]example[.]com,DOMAIN,,c3',
        'checkout(.)pay-abuse{.}example[dot]com,domain,,c4',
        'hxxps[://]shop[.]example[.]org/checkout?id=1,URL,,c5',
        'hXXp://www[.]pay-abuse[.]example[.]com/buy?x=[.],URL,,c6',
        'someone@example.com,EMAIL,,c7',
        `${unlisted},,,c8`,
        'clean[.]example[.]net,DOMAIN,,c9',
        'not-an-address,WALLET_ADDRESS,ethereum,c10',
      ].join('\n') + '\n',
    );
    const output = path.join(dir, 'mixed-out.csv');
    const res = await screen(input, output, ['--batch', '4']);
    expect(res).toMatchObject({ code: 0 });
    expect(res.stderr).toContain('done: 10 screened, 6 matches');
    const rows = results(output);
    const pick = (r: Out) => [r.input, r.kind, r.network, r.normalized, r.valid, r.match, r.matchedVia, r.indicatorId, r.status, r.confidence, r.category];
    expect(rows.slice(0, 6).map(pick)).toEqual([
      [listed.wallet, 'WALLET_ADDRESS', 'ethereum', listed.wallet.toLowerCase(), 'true', 'true', 'EXACT', ids.wallet, 'ACTIVE', '91', 'CSAM_COMMERCIAL'],
      [listed.bitcoin, 'WALLET_ADDRESS', 'bitcoin', listed.bitcoin, 'true', 'true', 'EXACT', ids.bitcoin, 'ACTIVE', '77', 'CSAM_PAYMENT_INTERMEDIARY'],
      ['pay-abuse[.]example[.]com', 'DOMAIN', '', 'pay-abuse.example.com', 'true', 'true', 'EXACT', ids.domain, 'ACTIVE', '64', 'CSAM_DISTRIBUTION'],
      ['checkout(.)pay-abuse{.}example[dot]com', 'DOMAIN', '', 'checkout.pay-abuse.example.com', 'true', 'true', 'PARENT_DOMAIN', ids.domain, 'ACTIVE', '64', 'CSAM_DISTRIBUTION'],
      ['hxxps[://]shop[.]example[.]org/checkout?id=1', 'URL', '', 'https://shop.example.org/checkout?id=1', 'true', 'true', 'EXACT', ids.url, 'ACTIVE', '55', 'CSAM_COMMERCIAL'],
      ['hXXp://www[.]pay-abuse[.]example[.]com/buy?x=[.]', 'URL', '', 'http://www.pay-abuse.example.com/buy?x=[.]', 'true', 'true', 'URL_DOMAIN', ids.domain, 'ACTIVE', '64', 'CSAM_DISTRIBUTION'],
    ]);
    // An unknown kind: that row's error, naming the column and the kinds; never a crash or a skipped row.
    expect(rows[6]).toMatchObject({ input: 'someone@example.com', kind: 'EMAIL', valid: 'false', match: 'false', indicatorId: '' });
    expect(rows[6].error).toBe('kind: "EMAIL" in the kind column is not one of WALLET_ADDRESS, MERCHANT_ID, DOMAIN, URL (UNSUPPORTED_KIND)');
    // An empty kind takes --kind (WALLET_ADDRESS by default); the network is detected.
    expect(pick(rows[7])).toEqual([unlisted, 'WALLET_ADDRESS', 'ethereum', unlisted.toLowerCase(), 'true', 'false', '', '', '', '', '']);
    expect(pick(rows[8])).toEqual(['clean[.]example[.]net', 'DOMAIN', '', 'clean.example.net', 'true', 'false', '', '', '', '', '']);
    expect(rows[9]).toMatchObject({ input: 'not-an-address', kind: 'WALLET_ADDRESS', network: 'ethereum', valid: 'false', error: expect.stringMatching(/^value: /) });
    expect(rows).toHaveLength(10);

    // The same columns in another order and case give the same rows.
    const reordered = path.join(dir, 'reordered.csv');
    const [, ...data] = readFileSync(input, 'utf8').trim().split('\n');
    writeFileSync(reordered, ['Customer,NETWORK,Value,Kind', ...data.map((line) => { const [v, k, n, c] = line.split(','); return [c, n, v, k].join(','); })].join('\n') + '\n');
    const reorderedOut = path.join(dir, 'reordered-out.csv');
    expect((await screen(reordered, reorderedOut, ['--batch', '3'])).code).toBe(0);
    expect(results(reorderedOut)).toEqual(rows);

    // A file of bad kinds only: no call is needed, every row still gets its line.
    const allBad = path.join(dir, 'all-bad.csv');
    writeFileSync(allBad, 'kind,value\nIBAN,DE00\nphone,+4900\n');
    const allBadOut = path.join(dir, 'all-bad-out.csv');
    expect((await screen(allBad, allBadOut)).code).toBe(0);
    expect(results(allBadOut).map((r) => [r.input, r.kind, r.valid, r.error.replace(/ in the kind .*/, '')])).toEqual([
      ['DE00', 'IBAN', 'false', 'kind: "IBAN"'],
      ['+4900', 'phone', 'false', 'kind: "phone"'],
    ]);

    // A header naming kind or network but no value column is refused before anything is written.
    const noValue = path.join(dir, 'no-value.csv');
    writeFileSync(noValue, 'address,kind\nx,DOMAIN\n');
    const refused = await screen(noValue, path.join(dir, 'no-value-out.csv'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the header row has no value column/);
    expect(existsSync(path.join(dir, 'no-value-out.csv'))).toBe(false);
  });

  it('still reads the old formats: one value a line with --kind, value,network lines, and a value,network header', async () => {
    const domains = path.join(dir, 'domains.txt');
    writeFileSync(domains, 'pay-abuse[.]example[.]com\nclean.example.net\n');
    const domainsOut = path.join(dir, 'domains-out.csv');
    expect((await screen(domains, domainsOut, ['--kind', 'DOMAIN'])).code).toBe(0);
    expect(results(domainsOut).map((r) => [r.input, r.kind, r.normalized, r.match, r.indicatorId])).toEqual([
      ['pay-abuse[.]example[.]com', 'DOMAIN', 'pay-abuse.example.com', 'true', ids.domain],
      ['clean.example.net', 'DOMAIN', 'clean.example.net', 'false', ''],
    ]);

    for (const header of [[], ['value,network']]) {
      const wallets = path.join(dir, `wallets-${header.length}.csv`);
      writeFileSync(wallets, [...header, `${listed.bitcoin},btc`, `${listed.wallet},polygon`, listed.wallet].join('\n') + '\n');
      const walletsOut = path.join(dir, `wallets-${header.length}-out.csv`);
      expect((await screen(wallets, walletsOut)).code).toBe(0);
      expect(results(walletsOut).map((r) => [r.input, r.kind, r.network, r.matchedVia, r.indicatorId])).toEqual([
        [listed.bitcoin, 'WALLET_ADDRESS', 'bitcoin', 'EXACT', ids.bitcoin],
        [listed.wallet, 'WALLET_ADDRESS', 'ethereum', 'EVM_ADDRESS', ids.wallet],
        [listed.wallet, 'WALLET_ADDRESS', 'ethereum', 'EXACT', ids.wallet],
      ]);
    }
  });

  it('resumes a header-format file after a torn row and after Ctrl-C, ending with exactly what an uninterrupted run writes', async () => {
    const lines = ['kind,value,network'];
    for (let i = 0; i < 240; i++) {
      if (i % 40 === 5) lines.push(`WALLET_ADDRESS,${listed.wallet},eth`);
      else if (i % 40 === 17) lines.push('DOMAIN,pay-abuse[.]example[.]com,');
      else if (i % 40 === 29) lines.push('EMAIL,x@example.com,');
      else if (i % 3 === 0) lines.push(`DOMAIN,host-${i}[.]example[.]net,`);
      else if (i % 3 === 1) lines.push(`URL,hxxps://host-${i}[.]example[.]net/p?q=[${i}],`);
      else lines.push(`,${nextAddress()},`);
    }
    const input = path.join(dir, 'resume.csv');
    writeFileSync(input, lines.join('\n') + '\n');
    const args = (output: string) => ['screen', '--in', input, '--out', output, '--batch', '2', '--key', keyFile, '--url', app.url];
    const reference = path.join(dir, 'resume-reference.csv');
    expect((await cordon(args(reference))).code).toBe(0);
    const expected = readFileSync(reference, 'utf8');
    const rows = results(reference);
    expect(rows).toHaveLength(240);
    expect(rows.filter((r) => r.match === 'true')).toHaveLength(12);
    expect(rows.filter((r) => r.kind === 'EMAIL' && r.valid === 'false')).toHaveLength(6);

    // A torn last row (the process died mid-write): cut off and screened again.
    const torn = path.join(dir, 'resume-torn.csv');
    const text = expected.split('\n');
    writeFileSync(torn, text.slice(0, 60).join('\n') + '\n' + text[60].slice(0, 20));
    const repaired = await cordon(args(torn));
    expect(repaired.stderr).toContain('dropped a torn last row');
    expect(repaired.stderr).toContain('resuming: 58 of 240');
    expect(readFileSync(torn, 'utf8')).toBe(expected);

    // Ctrl-C part-way: it says where it stopped; the next run finishes the same file.
    const interrupted = path.join(dir, 'resume-interrupted.csv');
    const child = spawn(process.execPath, [CLI, ...args(interrupted)], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const written = () => (existsSync(interrupted) ? readFileSync(interrupted, 'utf8').split('\n').length - 3 : 0);
    const timer = setInterval(() => {
      if (written() >= 30) {
        clearInterval(timer);
        child.kill('SIGINT');
      }
    }, 5);
    const code = await exited;
    clearInterval(timer);
    expect(code).toBe(130);
    const stopped = /stopped: (\d+) of 240 values screened \(in .*resume-interrupted\.csv\); run the same command again to resume/.exec(stderr);
    expect(stopped).not.toBeNull();
    expect(Number(stopped![1])).toBeGreaterThan(0);
    expect(Number(stopped![1])).toBeLessThan(240);
    const resumed = await cordon(args(interrupted));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming: \d+ of 240 values already screened/);
    expect(readFileSync(interrupted, 'utf8')).toBe(expected);
  });
});

/**
 * A loopback HTTP proxy in front of the service that keeps every request's method, path and body:
 * what the CLI actually sends, as the network sees it.
 */
async function recordingProxy(target: string) {
  const requests: { method: string; path: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    const upstream = http.request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      upstream.write(chunk);
    });
    req.on('end', () => {
      requests.push({ method: req.method!, path: req.url!, body: Buffer.concat(chunks).toString('utf8') });
      upstream.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('cordon screen goes through POST /v1/screen; --fingerprints sends fingerprints only and answers the same (issue 19.4)', () => {
  let app: TestApp;
  let dir: string;
  let keyFile: string;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  const listed = { wallet: nextAddress(), monero: '' };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    app = await startTestApp();
    proxy = await recordingProxy(app.url);
    dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-screen-fp-'));
    const coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR']);
    const submit = async (name: string, overrides: Record<string, unknown>) => {
      const res = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, ...overrides }) }, coordinator.key);
      if (res.errors) throw new Error(JSON.stringify(res.errors));
      ids[name] = res.data!.submitStatement.indicator.id;
    };
    await submit('wallet', { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: listed.wallet }, confidence: 91 });
    await submit('domain', { indicator: { kind: 'DOMAIN', value: 'fp-abuse.example.com' }, confidence: 64, category: 'CSAM_DISTRIBUTION' });
    // Nearer to the screened values below than the GREEN parent, but RED: the screener must not see it.
    await submit('red', { indicator: { kind: 'DOMAIN', value: 'deep.fp-abuse.example.com' }, tlp: 'RED' });
    await submit('redWallet', { indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: (listed.monero = nextAddress()) }, tlp: 'RED' });
    await submit('url', { indicator: { kind: 'URL', value: 'https://fp.example.org/pay?id=7' }, confidence: 55 });
    keyFile = path.join(dir, 'screener.json');
    const { stdout: pub } = await cordon(['keygen', '--out', keyFile]);
    const member = await app.gql('mutation { createMember(input: { name: "FP Screener", kind: CRYPTO_EXCHANGE }) { id } }');
    const principal = await app.gql('mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }', {
      i: { memberId: member.data!.createMember.id, name: 'fp', roles: ['SCREENER'], publicJwk: JSON.parse(pub) },
    });
    expect(principal.errors).toBeUndefined();
  });
  afterAll(async () => {
    await proxy?.close();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const screen = (input: string, output: string, extra: string[] = []) => cordon(['screen', '--in', input, '--out', output, '--key', keyFile, '--url', proxy.url, ...extra]);
  const rowsOf = (file: string) => results(file);

  it('gives the same rows by value and by fingerprint — exact, EVM chain, parent domain past a RED nearer one, URL host, invisible, invalid, bad kind — and the values never reach the wire', async () => {
    const unlisted = nextAddress();
    const raw = [
      'value,kind,network',
      `${listed.wallet},WALLET_ADDRESS,ethereum`,
      `${listed.wallet},WALLET_ADDRESS,polygon`,
      'x.deep.fp-abuse[.]example[.]com,DOMAIN,',
      'deep.fp-abuse.example.com,DOMAIN,',
      'hxxps://shop.deep.fp-abuse.example.com/buy,URL,',
      'https://fp.example.org/pay?id=7,URL,',
      `${listed.monero},WALLET_ADDRESS,ethereum`,
      `${unlisted},WALLET_ADDRESS,`,
      'not-an-address,WALLET_ADDRESS,ethereum',
      'someone@example.com,EMAIL,',
      'clean.example.net,DOMAIN,',
    ];
    const input = path.join(dir, 'mixed.csv');
    writeFileSync(input, raw.join('\n') + '\n');
    const byValue = path.join(dir, 'by-value.csv');
    const byFingerprint = path.join(dir, 'by-fingerprint.csv');

    proxy.requests.length = 0;
    const valueRun = await screen(input, byValue, ['--batch', '3']);
    expect(valueRun).toMatchObject({ code: 0 });
    // Four calls of at most three rows, each to the bulk endpoint (the EMAIL row is answered here, not sent).
    expect(proxy.requests.map((r) => `${r.method} ${r.path}`)).toEqual(Array(4).fill('POST /v1/screen'));
    expect(proxy.requests.map((r) => r.body.trim().split('\n').length)).toEqual([3, 3, 3, 1]);
    expect(JSON.parse(proxy.requests[0].body.split('\n')[0])).toEqual({ kind: 'WALLET_ADDRESS', value: listed.wallet, network: 'ethereum' });

    proxy.requests.length = 0;
    const fingerprintRun = await screen(input, byFingerprint, ['--batch', '3', '--fingerprints']);
    expect(fingerprintRun).toMatchObject({ code: 0 });
    expect(fingerprintRun.stderr).toContain(`done: 11 screened, ${rowsOf(byValue).filter((r) => r.match === 'true').length} matches`);

    // Row for row the same answers, but for the input file's identity line (same input) nothing differs at all.
    expect(readFileSync(byFingerprint, 'utf8')).toBe(readFileSync(byValue, 'utf8'));
    const rows = rowsOf(byValue);
    const pick = (r: Out) => [r.normalized, r.valid, r.match, r.matchedVia, r.indicatorId];
    expect(rows.map(pick)).toEqual([
      [listed.wallet.toLowerCase(), 'true', 'true', 'EXACT', ids.wallet],
      [listed.wallet.toLowerCase(), 'true', 'true', 'EVM_ADDRESS', ids.wallet],
      ['x.deep.fp-abuse.example.com', 'true', 'true', 'PARENT_DOMAIN', ids.domain],
      ['deep.fp-abuse.example.com', 'true', 'true', 'PARENT_DOMAIN', ids.domain],
      ['https://shop.deep.fp-abuse.example.com/buy', 'true', 'true', 'URL_DOMAIN', ids.domain],
      ['https://fp.example.org/pay?id=7', 'true', 'true', 'EXACT', ids.url],
      [listed.monero.toLowerCase(), 'true', 'false', '', ''],
      [unlisted.toLowerCase(), 'true', 'false', '', ''],
      ['', 'false', 'false', '', ''],
      ['', 'false', 'false', '', ''],
      ['clean.example.net', 'true', 'false', '', ''],
    ]);
    expect(rows[8].error).toMatch(/^value: .*\([A-Z_]+\)$/);

    // On the wire: bare fingerprints, one per screening key (4 for x.deep.fp-abuse.example.com:
    // itself and three parents), and not one of the values, in any form.
    const sent = proxy.requests.flatMap((r) => r.body.trim().split('\n').map((line) => JSON.parse(line)));
    expect(sent.every((line) => Object.keys(line).join() === 'fingerprint' && /^[0-9a-f]{64}$/.test(line.fingerprint))).toBe(true);
    const wire = proxy.requests.map((r) => r.body).join('\n').toLowerCase();
    for (const value of [listed.wallet, listed.monero, unlisted, 'fp-abuse', 'fp.example.org', 'clean.example', 'not-an-address', 'someone']) {
      expect(wire).not.toContain(value.toLowerCase());
    }
    // wallet, EVM chain, x.deep… (+3 parents), deep… (+2), the shop URL (+ its host and 3 of the
    // host's parents), the fp URL (+ host, parent), RED wallet, unlisted, clean… (+1); the invalid
    // address and the EMAIL row send nothing.
    expect(sent).toHaveLength(1 + 1 + 4 + 3 + 5 + 3 + 1 + 1 + 2);
  });

  it('reads NDJSON input as the endpoint does, and a refused call is an error that names its code and keeps what was answered', async () => {
    const ndjson = path.join(dir, 'values.ndjson');
    writeFileSync(
      ndjson,
      [
        JSON.stringify({ kind: 'WALLET_ADDRESS', value: listed.wallet, network: 'ethereum' }),
        JSON.stringify({ kind: 'DOMAIN', value: 'a.fp-abuse.example.com' }),
        'not json',
        JSON.stringify({ fingerprint: 'A'.repeat(64) }),
        JSON.stringify({ fingerprint: 'z' }),
      ].join('\n') + '\n',
    );
    const out = path.join(dir, 'ndjson-out.csv');
    expect((await screen(ndjson, out)).code).toBe(0);
    expect(rowsOf(out).map((r) => [r.input, r.valid, r.match, r.matchedVia, r.indicatorId, r.error.replace(/ \(.*/, '')])).toEqual([
      [listed.wallet, 'true', 'true', 'EXACT', ids.wallet, ''],
      ['a.fp-abuse.example.com', 'true', 'true', 'PARENT_DOMAIN', ids.domain, ''],
      ['not json', 'false', 'false', '', '', 'line 3: not a JSON object'],
      ['A'.repeat(64), 'true', 'false', '', '', ''],
      ['z', 'false', 'false', '', '', 'fingerprint: must be 64 hexadecimal digits'],
    ]);

    // --fingerprints sends fingerprints only: a line with a fingerprint and a value is refused
    // here, in the service's words, and its value never reaches the wire.
    const mixed = path.join(dir, 'mixed.ndjson');
    writeFileSync(mixed, `${JSON.stringify({ fingerprint: 'b'.repeat(64), value: 'secret-customer.example' })}\n${JSON.stringify({ kind: 'DOMAIN', value: 'a.fp-abuse.example.com' })}\n`);
    proxy.requests.length = 0;
    const mixedOut = path.join(dir, 'mixed-out.csv');
    expect((await screen(mixed, mixedOut, ['--fingerprints'])).code).toBe(0);
    expect(rowsOf(mixedOut).map((r) => [r.valid, r.match, r.error])).toEqual([
      ['false', 'false', 'fingerprint: give a fingerprint alone, or kind and value without it'],
      ['true', 'true', ''],
    ]);
    expect(proxy.requests.map((r) => r.body).join('\n')).not.toContain('secret-customer');

    // A key the service does not know: the call is refused as a whole, with its code; nothing screened.
    const stranger = path.join(dir, 'stranger.json');
    await cordon(['keygen', '--out', stranger]);
    const refusedOut = path.join(dir, 'refused-out.csv');
    const refused = await cordon(['screen', '--in', ndjson, '--out', refusedOut, '--key', stranger, '--url', app.url]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error UNAUTHENTICATED: .+ — stopped: 0 of 5 values screened/m);
    expect(readFileSync(refusedOut, 'utf8').split('\n').filter(Boolean)).toHaveLength(2); // identity line and header only
  });
});
