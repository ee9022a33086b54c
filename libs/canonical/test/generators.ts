import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base58, base58xmr, bech32, bech32m, createBase58check } from '@scure/base';
import { encodeCashAddress } from 'ecashaddrjs';
import fc from 'fast-check';

/** Valid mainnet addresses built with the encoders (the decoders under test are separate code paths). */
const b58check = createBase58check(sha256);
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

function withVersion(version: number, payload: Uint8Array): string {
  return b58check.encode(Uint8Array.from([version, ...payload]));
}

export function eip55(hex40: string): string {
  const lower = hex40.toLowerCase();
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  return [...lower].map((c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c)).join('');
}

function segwit(hrp: string, version: number, program: Uint8Array): string {
  const words = [version, ...bech32.toWords(program)];
  return version === 0 ? bech32.encode(hrp, words) : bech32m.encode(hrp, words);
}

function monero(netbyte: number, keys: Uint8Array): string {
  const body = Uint8Array.from([netbyte, ...keys]);
  return base58xmr.encode(Uint8Array.from([...body, ...keccak_256(body).subarray(0, 4)]));
}

export interface Generated {
  network: string;
  address: string;
  /** checksummed: a single-character change must be refused (not solana; not an all-lower EVM address) */
  checksummed: boolean;
}

export const address: fc.Arbitrary<Generated> = fc.oneof(
  fc.tuple(fc.constantFrom(0x00, 0x05), bytes(20)).map(([v, h]) => ({ network: 'bitcoin', address: withVersion(v, h), checksummed: true })),
  fc.tuple(fc.constantFrom(20, 32), fc.uint8Array({ minLength: 32, maxLength: 32 })).map(([n, p]) => ({
    network: 'bitcoin',
    address: segwit('bc', 0, p.subarray(0, n)),
    checksummed: true,
  })),
  bytes(32).map((p) => ({ network: 'bitcoin', address: segwit('bc', 1, p), checksummed: true })),
  fc.tuple(fc.constantFrom(0x30, 0x32), bytes(20)).map(([v, h]) => ({ network: 'litecoin', address: withVersion(v, h), checksummed: true })),
  bytes(20).map((p) => ({ network: 'litecoin', address: segwit('ltc', 0, p), checksummed: true })),
  fc.tuple(fc.constantFrom('P2PKH', 'P2SH'), bytes(20)).map(([t, h]) => ({
    network: 'bitcoin-cash',
    address: encodeCashAddress('bitcoincash', t === 'P2PKH' ? 'p2pkh' : 'p2sh', h),
    checksummed: true,
  })),
  bytes(20).map((h) => ({ network: 'tron', address: withVersion(0x41, h), checksummed: true })),
  bytes(20).map((h) => ({ network: 'ethereum', address: `0x${eip55(bytesToHex(h))}`, checksummed: /[a-f]/.test(bytesToHex(h)) })),
  fc.tuple(fc.constantFrom(18, 42), bytes(64)).map(([n, k]) => ({ network: 'monero', address: monero(n, k), checksummed: true })),
  bytes(72).map((k) => ({ network: 'monero', address: monero(19, k), checksummed: true })),
  bytes(32).map((k) => ({ network: 'solana', address: base58.encode(k), checksummed: false })),
);
