import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
