import { createHash } from 'node:crypto';

/** Every hash in the tree is a SHA-256 digest (RFC 9162 section 2.1 with the SHA-256 hash algorithm). */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) = HASH(): the root of the empty tree. Shared, so never mutate it; the functions here return copies. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

/** MTH({d}) = HASH(0x00 || d). Strings are hashed as their UTF-8 bytes. */
export function leafHash(bytes: Uint8Array | string): Buffer {
  return createHash('sha256')
    .update(LEAF_PREFIX)
    .update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)
    .digest();
}

/** HASH(0x01 || left || right). The distinct prefixes keep a leaf from passing for an interior node (second preimage). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  assertHash(left, 'left');
  assertHash(right, 'right');
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

export function isHash(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

/** Throws a TypeError unless `value` is a 32-byte Uint8Array: a short hash is a caller bug, not data. */
export function assertHash(value: unknown, what = 'hash'): asserts value is Uint8Array {
  if (!isHash(value)) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new TypeError(`${what} must be a ${HASH_SIZE}-byte hash, got ${got}`);
  }
}

/** Byte equality of two hashes (the data is public, so no constant-time compare is needed). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict: Buffer.from(s, 'hex') silently stops at the first bad digit, which would turn typos into short hashes. */
export function fromHex(hex: string): Buffer {
  if (typeof hex !== 'string' || !HEX.test(hex)) throw new TypeError('fromHex: expected an even number of hex digits');
  return Buffer.from(hex, 'hex');
}
