import fc from 'fast-check';
import { parse } from '../src/index.js';
import { address } from './generators.js';

/** Property tests (fast-check). Seeds are random per run; a failure prints its seed to replay. */
const RUNS = Number(process.env.FC_RUNS ?? 2000);

describe('canonical forms: properties', () => {
  it('parses every generated valid address, on its own network and by detection', () => {
    fc.assert(
      fc.property(address, ({ network, address: value }) => {
        const given = parse('WALLET_ADDRESS', value, network);
        expect(given).toMatchObject({ ok: true, network });
        if (network === 'solana' && value.length < 32) return; // too short to detect; needs its network
        expect(parse('WALLET_ADDRESS', value)).toMatchObject({ ok: true, network });
      }),
      { numRuns: RUNS },
    );
  });

  it('is idempotent: the canonical form parses to itself, with the same fingerprint', () => {
    const valueArb = fc.oneof(
      address.map((a) => ['WALLET_ADDRESS', a.address, a.network] as const),
      fc.domain().map((d) => ['DOMAIN', d, undefined] as const),
      fc.webUrl({ withQueryParameters: true, withFragments: true }).map((u) => ['URL', u, undefined] as const),
      fc.tuple(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ]{0,20}[A-Za-z0-9]$/), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,30}$/)).map(
        ([a, m]) => ['MERCHANT_ID', `${a}:${m}`, undefined] as const,
      ),
    );
    fc.assert(
      fc.property(valueArb, ([kind, value, network]) => {
        const first = parse(kind, value, network);
        if (!first.ok) return; // generated domains may be public suffixes, IPs …: refusals are covered elsewhere
        const again = parse(kind, first.canonical, first.network ?? undefined);
        expect(again).toMatchObject({ ok: true, canonical: first.canonical, fingerprint: first.fingerprint });
      }),
      { numRuns: RUNS },
    );
  });

  it('gives one key for every case variant of a bech32 or cashaddr address, and refuses mixed case', () => {
    const caseable = address.filter((a) => /^(bc1|ltc1|bitcoincash:)/.test(a.address));
    fc.assert(
      fc.property(caseable, fc.nat(), ({ network, address: value }, pick) => {
        const lower = parse('WALLET_ADDRESS', value.toLowerCase(), network);
        const upper = parse('WALLET_ADDRESS', value.toUpperCase(), network);
        expect(upper).toMatchObject({ ok: true, fingerprint: (lower as { fingerprint: string }).fingerprint });
        const letters = [...value].map((c, i) => (/[a-z]/.test(c) ? i : -1)).filter((i) => i >= 0);
        const i = letters[pick % letters.length];
        const mixed = value.slice(0, i) + value[i].toUpperCase() + value.slice(i + 1);
        expect(parse('WALLET_ADDRESS', mixed, network)).toMatchObject({ ok: false, code: 'MIXED_CASE' });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses single-character changes of checksummed addresses (measured rate per network)', () => {
    const tally = new Map<string, { tried: number; refused: number }>();
    const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0';
    fc.assert(
      fc.property(address.filter((a) => a.checksummed), fc.nat(), fc.nat(), ({ network, address: value }, pos, ch) => {
        const start = value.startsWith('0x') ? 2 : value.startsWith('bitcoincash:') ? 12 : /^(bc1|ltc1)/.test(value) ? value.indexOf('1') + 1 : 0;
        const i = start + (pos % (value.length - start));
        const pool = network === 'ethereum' ? '0123456789abcdefABCDEF' : /^(bc1|ltc1|bitcoincash:)/.test(value) ? 'qpzry9x8gf2tvdw0s3jn54khce6mua7l' : alphabet;
        const replacement = pool[ch % pool.length];
        if (replacement === value[i] || replacement.toLowerCase() === value[i].toLowerCase() && network === 'ethereum') return;
        const mutated = value.slice(0, i) + replacement + value.slice(i + 1);
        const t = tally.get(network) ?? { tried: 0, refused: 0 };
        t.tried++;
        const result = parse('WALLET_ADDRESS', mutated, network);
        if (!result.ok) t.refused++;
        tally.set(network, t);
      }),
      { numRuns: RUNS * 3 },
    );
    const rates = Object.fromEntries([...tally].map(([n, t]) => [n, { ...t, rate: t.refused / t.tried }]));
    process.stdout.write(`single-character mutation refusal rates: ${JSON.stringify(rates)}\n`);
    for (const [network, { rate }] of Object.entries(rates)) {
      // bech32/cashaddr (BCH codes) catch every single substitution; 32-bit checksums all but 2^-32;
      // EIP-55 checks only the case of the letters, and a change that leaves no upper-case letter
      // is an unchecksummed address by design: about 0.4 % escape (threshold with margin).
      expect({ network, ok: rate >= (network === 'ethereum' ? 0.97 : 1) }).toEqual({ network, ok: true });
    }
  });

  it('never throws on any input: random, unicode, huge (a hang fails by the suite timeout)', () => {
    const kinds = fc.constantFrom('WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL', 'OTHER');
    const networks = fc.option(fc.constantFrom('bitcoin', 'ethereum', 'tron', 'litecoin', 'bitcoin-cash', 'monero', 'solana', 'polygon', 'xx'));
    const values = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      fc.stringMatching(/^[13bcltqpTLM0x48][1-9A-HJ-NP-Za-km-z0-9:.]{20,110}$/),
      fc.webUrl().map((u) => u + '/%zz%00\u202e'),
      fc.anything(),
    );
    fc.assert(
      fc.property(kinds, values, networks, (kind, value, network) => {
        const result = parse(kind, value, network ?? undefined);
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(result.message.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS * 2 },
    );
    for (const kind of ['WALLET_ADDRESS', 'DOMAIN', 'URL', 'MERCHANT_ID']) {
      const huge = 'a'.repeat(5_000_000);
      expect(parse(kind, huge)).toMatchObject({ ok: false, code: 'TOO_LONG' });
      expect(parse(kind, `https://${'ü'.repeat(1_000_000)}.com`)).toMatchObject({ ok: false });
    }
  });
});
