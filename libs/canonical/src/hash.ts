import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** SHA-256 of a UTF-8 string, lower-case hex. */
export type Sha256Hex = (text: string) => string;

const portable: Sha256Hex = (text) => bytesToHex(nobleSha256(utf8ToBytes(text)));
let current: Sha256Hex = portable;

/**
 * The one seam for speed: the library runs anywhere with @noble/hashes, and a server may plug in
 * its native SHA-256 (`useSha256((s) => createHash('sha256').update(s).digest('hex'))`).
 */
export function useSha256(fn: Sha256Hex): void {
  current = fn;
}

export function sha256Hex(text: string): string {
  return current(text);
}

export { nobleSha256 as sha256Bytes };
