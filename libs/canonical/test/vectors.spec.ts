import { readFileSync } from 'node:fs';
import { bech32, bech32m } from '@scure/base';
import { matchKeys, parse, type ParseResult } from '../src/index.js';

/** The published vectors, committed under test/vectors/ with their sources named in each file. */
function vectors<T>(name: string): T & { source: string } {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T & { source: string };
}

type Bip = {
  validBech32?: string[];
  invalidBech32?: { string: string; reason: string }[];
  validBech32m?: string[];
  invalidBech32m?: { string: string; reason: string }[];
  validAddresses: { address: string; scriptPubKey: string }[];
  invalidAddresses: { address: string; reason: string }[];
};
const bip173 = vectors<Bip>('bip173.json');
const bip350 = vectors<Bip>('bip350.json');

/** What the scriptPubKey says the address is: OP_n then a push of the witness program. */
function expectedFormat(scriptPubKey: string): string {
  const op = parseInt(scriptPubKey.slice(0, 2), 16);
  const version = op === 0 ? 0 : op - 0x50;
  const length = parseInt(scriptPubKey.slice(2, 4), 16);
  if (version === 0) return length === 20 ? 'p2wpkh' : 'p2wsh';
  return version === 1 && length === 32 ? 'p2tr' : `segwit-v${version}`;
}

function hrpOf(address: string): string {
  return address.toLowerCase().slice(0, address.lastIndexOf('1'));
}

function expectRefused(result: ParseResult, code?: string) {
  expect(result.ok).toBe(false);
  if (!result.ok && code) expect(result.code).toBe(code);
}

describe('BIP-350 (bech32m) vectors — the rules in force', () => {
  it.each(bip350.validAddresses)('valid $address', ({ address, scriptPubKey }) => {
    const result = parse('WALLET_ADDRESS', address, 'bitcoin');
    if (hrpOf(address) === 'tb') return expectRefused(result, 'TESTNET_ADDRESS');
    expect(result).toMatchObject({ ok: true, network: 'bitcoin', canonical: address.toLowerCase(), wallet: { format: expectedFormat(scriptPubKey) } });
    expect(parse('WALLET_ADDRESS', address)).toMatchObject({ ok: true, canonical: address.toLowerCase() });
  });

  it.each(bip350.invalidAddresses)('invalid $address ($reason)', ({ address }) => {
    expectRefused(parse('WALLET_ADDRESS', address, 'bitcoin'));
    expectRefused(parse('WALLET_ADDRESS', address));
  });

  it('the checksum library meets the generic bech32m string vectors', () => {
    for (const s of bip350.validBech32m!) expect(bech32m.decodeUnsafe(s, 90)).toBeTruthy();
    for (const { string } of bip350.invalidBech32m!) expect(bech32m.decodeUnsafe(string, 90)).toBeFalsy();
  });
});

describe('BIP-173 (bech32) vectors', () => {
  it.each(bip173.validAddresses)('$address: version 0 valid; version 1+ with a bech32 checksum refused since BIP-350', ({ address, scriptPubKey }) => {
    const result = parse('WALLET_ADDRESS', address, 'bitcoin');
    const v0 = scriptPubKey.startsWith('00');
    if (!v0) return expectRefused(result, hrpOf(address) === 'tb' ? 'TESTNET_ADDRESS' : 'BAD_CHECKSUM');
    if (hrpOf(address) === 'tb') return expectRefused(result, 'TESTNET_ADDRESS');
    expect(result).toMatchObject({ ok: true, canonical: address.toLowerCase(), wallet: { format: expectedFormat(scriptPubKey) } });
  });

  it.each(bip173.invalidAddresses)('invalid $address ($reason)', ({ address }) => {
    expectRefused(parse('WALLET_ADDRESS', address, 'bitcoin'));
  });

  it('the checksum library meets the generic bech32 string vectors', () => {
    for (const s of bip173.validBech32!) expect(bech32.decodeUnsafe(s, 90)).toBeTruthy();
    for (const { string } of bip173.invalidBech32!) expect(bech32.decodeUnsafe(string, 90)).toBeFalsy();
  });
});

describe('EIP-55 vectors', () => {
  const { valid } = vectors<{ valid: string[] }>('eip55.json');
  it.each(valid)('%s', (address) => {
    expect(parse('WALLET_ADDRESS', address, 'ethereum')).toMatchObject({ ok: true, canonical: address.toLowerCase() });
    // Flip the case of one letter: the checksum must catch it.
    const i = [...address.slice(2)].findIndex((c) => /[a-fA-F]/.test(c)) + 2;
    if (i < 2) return;
    const flipped = address.slice(0, i) + (address[i] === address[i].toLowerCase() ? address[i].toUpperCase() : address[i].toLowerCase()) + address.slice(i + 1);
    const mixed = /[a-f]/.test(flipped.slice(2)) && /[A-F]/.test(flipped.slice(2));
    if (mixed) expectRefused(parse('WALLET_ADDRESS', flipped, 'ethereum'), 'BAD_CHECKSUM');
  });
});

describe('cashaddr specification vectors', () => {
  const spec = vectors<{
    legacyToCashaddr: { legacy: string; cashaddr: string }[];
    sizeAndType: { payloadSizeBytes: number; type: number; cashaddr: string; payloadHex: string }[];
  }>('cashaddr.json');

  it.each(spec.legacyToCashaddr)('$legacy ↔ $cashaddr', ({ legacy, cashaddr }) => {
    const viaLegacy = parse('WALLET_ADDRESS', legacy, 'bitcoin-cash');
    const direct = parse('WALLET_ADDRESS', cashaddr);
    const unprefixed = parse('WALLET_ADDRESS', cashaddr.slice('bitcoincash:'.length).toUpperCase(), 'bitcoin-cash');
    for (const r of [viaLegacy, direct, unprefixed]) expect(r).toMatchObject({ ok: true, network: 'bitcoin-cash', canonical: cashaddr });
    // The same legacy string without a network is a bitcoin address (SPEC: 1…/3… is bitcoin).
    expect(parse('WALLET_ADDRESS', legacy)).toMatchObject({ ok: true, network: 'bitcoin', canonical: legacy });
  });

  // The table exercises the encoding's size field; Bitcoin Cash itself defines P2PKH-20,
  // P2SH-20 and P2SH-32 only, so the other sizes are well-formed cashaddrs but not addresses.
  it.each(spec.sizeAndType)('$cashaddr (type $type, $payloadSizeBytes bytes)', ({ cashaddr, type, payloadSizeBytes }) => {
    const prefix = cashaddr.slice(0, cashaddr.indexOf(':'));
    const result = parse('WALLET_ADDRESS', cashaddr, 'bitcoin-cash');
    if (prefix === 'bchtest') return expectRefused(result, 'TESTNET_ADDRESS');
    if (prefix !== 'bitcoincash') return expectRefused(result, 'UNKNOWN_PREFIX');
    expect(type).toBe(0);
    if (payloadSizeBytes !== 20) return expectRefused(result, 'BAD_LENGTH');
    expect(result).toMatchObject({ ok: true, canonical: cashaddr, wallet: { format: 'cashaddr-p2pkh' } });
  });
});

describe('known published addresses', () => {
  type Entry = { address: string; type?: string; network?: string; standardAddress?: string };
  const known = vectors<Record<string, Entry[]> & { testnet: Record<string, Entry[]> }>('known-addresses.json');
  const networkOf: Record<string, string> = {
    monero: 'monero',
    tron: 'tron',
    litecoin: 'litecoin',
    solana: 'solana',
    bitcoinCash: 'bitcoin-cash',
    ethereum: 'ethereum',
  };
  const cases = Object.entries(networkOf).flatMap(([key, network]) => known[key].map((e) => [network, e] as const));

  it.each(cases)('%s %j', (network, { address, type, standardAddress }) => {
    const given = parse('WALLET_ADDRESS', address, network);
    expect(given).toMatchObject({ ok: true, network });
    if (network === 'monero') expect(given).toMatchObject({ wallet: { format: type } });
    // An integrated address (standard address + payment id) also matches its standard address.
    if (given.ok) {
      const standard = matchKeys(given).filter((k) => k.via === 'STANDARD_ADDRESS').map((k) => k.canonical);
      expect(standard).toEqual(standardAddress ? [standardAddress] : []);
    }
    // Detection: legacy base58 1…/3… is bitcoin by definition; everything else finds its network.
    const legacyBase58 = /^[13]/.test(address) && (network === 'bitcoin-cash' || network === 'litecoin');
    const tooShortToDetect = network === 'solana' && address.length < 32;
    if (!legacyBase58 && !tooShortToDetect) expect(parse('WALLET_ADDRESS', address)).toMatchObject({ ok: true, network });
  });

  const testnets = Object.entries(known.testnet).flatMap(([key, list]) => list.map((e) => [networkOf[key], e] as const));
  it.each(testnets)('%s test network address %j is refused for mainnet', (network, { address }) => {
    expectRefused(parse('WALLET_ADDRESS', address, network), 'TESTNET_ADDRESS');
  });
});
