import { base58, base58xmr, bech32, bech32m, createBase58check } from '@scure/base';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { decodeCashAddress, encodeCashAddress } from 'ecashaddrjs';
import { sha256Bytes } from '../hash.js';
import { fail } from '../refusal.js';

/**
 * Address codecs. The checksum mathematics is the libraries': @scure/base for bech32, bech32m,
 * base58, base58check and Monero's base58; @noble/hashes for Keccak-256; ecashaddrjs (Bitcoin
 * ABC's maintained implementation) for cashaddr. This file checks characters, case, lengths and
 * versions first, so that every refusal names its exact reason.
 */
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/;
const BECH32_CHARS = /^[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/;
const base58check = createBase58check(sha256Bytes);

function firstInvalid(value: string, allowed: RegExp): string {
  for (const ch of value) if (!allowed.test(ch)) return ch;
  return '';
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code < 0x21 || code > 0x7e ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : `"${ch}"`;
}

export function requireBase58(value: string, what: string): void {
  if (!BASE58.test(value)) {
    const bad = firstInvalid(value, /[1-9A-HJ-NP-Za-km-z]/);
    fail('INVALID_CHARACTERS', `${what}: ${describeChar(bad)} is not a base58 character (base58 has no 0, O, I or l)`);
  }
}

export function hasMixedCase(value: string): boolean {
  return value !== value.toLowerCase() && value !== value.toUpperCase();
}

/** base58check (double SHA-256): returns version byte and payload. */
export function decodeBase58Check(value: string, what: string): { version: number; payload: Uint8Array } {
  requireBase58(value, what);
  let data: Uint8Array;
  try {
    data = base58check.decode(value);
  } catch {
    // Only on the failure path: tell a short value from a bad checksum.
    if (base58.decode(value).length < 5) fail('BAD_LENGTH', `${what}: too short for base58check`);
    fail('BAD_CHECKSUM', `${what}: base58check checksum does not match (a mistyped character?)`);
  }
  if (data.length < 1) fail('BAD_LENGTH', `${what}: too short for base58check`);
  return { version: data[0], payload: data.subarray(1) };
}

export interface SegwitAddress {
  hrp: string;
  version: number;
  program: Uint8Array;
  canonical: string;
}

/** BIP-173 / BIP-350 segwit address for one human-readable part; testnet parts refused. */
export function decodeSegwit(value: string, mainHrp: string, testHrps: readonly string[], network: string): SegwitAddress {
  const what = `${network} bech32 address`;
  if (hasMixedCase(value)) fail('MIXED_CASE', `${what}: mixes upper and lower case, which bech32 forbids (BIP-173)`);
  const lower = value.toLowerCase();
  if (lower.length > 90) fail('BAD_LENGTH', `${what}: longer than 90 characters`);
  const sep = lower.lastIndexOf('1');
  const hrp = lower.slice(0, sep);
  if (testHrps.includes(hrp)) fail('TESTNET_ADDRESS', `${what}: "${hrp}1" is a test network address, not ${network} mainnet`);
  if (hrp !== mainHrp) fail('UNKNOWN_PREFIX', `${what}: must start with "${mainHrp}1"`);
  const data = lower.slice(sep + 1);
  if (!BECH32_CHARS.test(data)) {
    const bad = firstInvalid(data, /[qpzry9x8gf2tvdw0s3jn54khce6mua7l]/);
    fail('INVALID_CHARACTERS', `${what}: ${describeChar(bad)} is not a bech32 character (no 1, b, i or o after the separator)`);
  }
  if (data.length < 7) fail('BAD_LENGTH', `${what}: too short`);
  // At most one of the two checksums holds for a string: try first the one its witness version
  // ('q' is version 0) should use, and the other only when that fails.
  const v0First = data[0] === 'q';
  let v0 = v0First ? bech32.decodeUnsafe(lower, 90) : undefined;
  const v1 = v0 ? undefined : bech32m.decodeUnsafe(lower, 90);
  if (!v0First && !v1) v0 = bech32.decodeUnsafe(lower, 90);
  const decoded = v0 || v1;
  if (!decoded) fail('BAD_CHECKSUM', `${what}: checksum does not match (a mistyped character?)`);
  const version = decoded.words[0];
  if (version > 16) fail('UNKNOWN_VERSION', `${what}: witness version ${version} does not exist (0 to 16)`);
  const program = bech32.fromWordsUnsafe(decoded.words.slice(1));
  if (!program) fail('BAD_LENGTH', `${what}: the witness program has invalid padding`);
  if (version === 0) {
    if (!v0) fail('BAD_CHECKSUM', `${what}: a witness version 0 address must use the bech32 checksum (BIP-173), not bech32m`);
    if (program.length !== 20 && program.length !== 32) {
      fail('BAD_LENGTH', `${what}: a witness version 0 program is 20 or 32 bytes, not ${program.length}`);
    }
  } else {
    if (!v1) fail('BAD_CHECKSUM', `${what}: a witness version ${version} address must use the bech32m checksum (BIP-350)`);
    if (program.length < 2 || program.length > 40) fail('BAD_LENGTH', `${what}: a witness program is 2 to 40 bytes, not ${program.length}`);
  }
  return { hrp, version, program, canonical: lower };
}

export const CASHADDR_PREFIX = 'bitcoincash';
const CASHADDR_TEST_PREFIXES = ['bchtest', 'bchreg'];

/** A cashaddr, with or without its `bitcoincash:` prefix; canonical is prefixed lower-case. */
export function decodeCashaddr(value: string): { type: 'P2PKH' | 'P2SH'; canonical: string } {
  const what = 'bitcoin-cash cashaddr';
  if (hasMixedCase(value)) fail('MIXED_CASE', `${what}: mixes upper and lower case, which cashaddr forbids`);
  const lower = value.toLowerCase();
  const colon = lower.indexOf(':');
  const prefix = colon >= 0 ? lower.slice(0, colon) : CASHADDR_PREFIX;
  const payload = colon >= 0 ? lower.slice(colon + 1) : lower;
  if (CASHADDR_TEST_PREFIXES.includes(prefix)) fail('TESTNET_ADDRESS', `${what}: "${prefix}:" is a test network address, not bitcoin-cash mainnet`);
  if (prefix !== CASHADDR_PREFIX) fail('UNKNOWN_PREFIX', `${what}: the prefix must be "${CASHADDR_PREFIX}:", not "${prefix}:"`);
  if (!BECH32_CHARS.test(payload)) {
    const bad = firstInvalid(payload, /[qpzry9x8gf2tvdw0s3jn54khce6mua7l]/);
    fail('INVALID_CHARACTERS', `${what}: ${describeChar(bad)} is not a cashaddr character`);
  }
  if (payload.length < 42 || payload.length > 120) fail('BAD_LENGTH', `${what}: ${payload.length} characters is not a cashaddr length`);
  let decoded: ReturnType<typeof decodeCashAddress>;
  try {
    decoded = decodeCashAddress(`${CASHADDR_PREFIX}:${payload}`);
  } catch (err) {
    const message = String((err as Error)?.message ?? '');
    if (message.includes('checksum')) fail('BAD_CHECKSUM', `${what}: checksum does not match (a mistyped character?)`);
    if (message.includes('hash size')) fail('BAD_LENGTH', `${what}: the hash length does not match its version byte`);
    if (message.includes('type')) fail('UNKNOWN_VERSION', `${what}: unknown address type in the version byte`);
    fail('UNRECOGNISED_FORMAT', `${what}: not a valid cashaddr`);
  }
  const type = decoded.type === 'p2sh' ? 'P2SH' : 'P2PKH';
  const size = decoded.hash.length / 2;
  // Bitcoin Cash has P2PKH-20, P2SH-20 and P2SH-32 only.
  if (!(size === 20 || (type === 'P2SH' && size === 32))) fail('BAD_LENGTH', `${what}: a ${type} hash of ${size} bytes is not a Bitcoin Cash address`);
  // Re-encoding catches version bytes the decoder tolerates (the reserved bit): one spelling per address.
  const canonical = encodeCashAddress(CASHADDR_PREFIX, decoded.type, decoded.hash);
  if (canonical !== `${CASHADDR_PREFIX}:${payload}`) fail('UNKNOWN_VERSION', `${what}: the version byte has reserved bits set`);
  return { type, canonical };
}

export function encodeBase58Check(version: number, payload: Uint8Array): string {
  return base58check.encode(Uint8Array.from([version, ...payload]));
}

export function encodeCashaddr(type: 'P2PKH' | 'P2SH', hash: Uint8Array): string {
  return encodeCashAddress(CASHADDR_PREFIX, type === 'P2SH' ? 'p2sh' : 'p2pkh', hash);
}

/** EIP-55: a mixed-case address must carry the right checksum capitalisation. */
export function eip55Valid(hex40: string): boolean {
  const lower = hex40.toLowerCase();
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  for (let i = 0; i < 40; i++) {
    const c = hex40[i];
    if (c >= 'a' && c <= 'f' && parseInt(hash[i], 16) >= 8) return false;
    if (c >= 'A' && c <= 'F' && parseInt(hash[i], 16) < 8) return false;
  }
  return true;
}

/** Monero base58 (block-wise) with the Keccak-256 checksum; returns the decoded bytes. */
export function decodeMonero(value: string): Uint8Array {
  const what = 'monero address';
  requireBase58(value, what);
  if (value.length !== 95 && value.length !== 106) {
    fail('BAD_LENGTH', `${what}: ${value.length} characters (standard and subaddresses have 95, integrated addresses 106)`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base58xmr.decode(value);
  } catch {
    fail('BAD_LENGTH', `${what}: not a valid Monero base58 encoding`);
  }
  const body = bytes.subarray(0, bytes.length - 4);
  const checksum = keccak_256(body).subarray(0, 4);
  if (!checksum.every((b, i) => b === bytes[bytes.length - 4 + i])) {
    fail('BAD_CHECKSUM', `${what}: Keccak checksum does not match (a mistyped character?)`);
  }
  return bytes;
}

/** Monero base58 of `body` with its Keccak-256 checksum appended. */
export function encodeMonero(body: Uint8Array): string {
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  out.set(keccak_256(body).subarray(0, 4), body.length);
  return base58xmr.encode(out);
}

export function decodeBase58(value: string, what: string): Uint8Array {
  requireBase58(value, what);
  return base58.decode(value);
}

export function encodeBase58(bytes: Uint8Array): string {
  return base58.encode(bytes);
}
