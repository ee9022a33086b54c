import { equalBytes, isHash, nodeHash } from './hash.js';
import { isSize } from './sizes.js';

/**
 * RFC 9162 verifiers, step for step as sections 2.1.3.2 and 2.1.4.2 write them. "Right-shift" is halving with
 * Math.floor and "LSB" is `% 2`, because sizes go past 2^31. They never throw: any malformed input (a size that is
 * not a safe integer, a hash that is not 32 bytes, a path that is not an array of them) is simply "not verified".
 */

function isPath(path: unknown): path is readonly Uint8Array[] {
  return Array.isArray(path) && path.every(isHash);
}

const half = (n: number) => Math.floor(n / 2);

/**
 * The root that an inclusion path leads to (section 2.1.3.2 steps 1-4 and the sn == 0 check of step 5), or null if
 * the inputs cannot form a valid proof for this index and size.
 */
export function rootFromInclusionProof(leafHash: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Buffer | null {
  if (!isHash(leafHash) || !isSize(index) || !isSize(size) || !isPath(path)) return null;
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

/** RFC 9162 section 2.1.3.2: does `path` prove that leafHash is leaf `index` of the tree of `size` with rootHash? */
export function verifyInclusion(leafHash: Uint8Array, index: number, size: number, path: readonly Uint8Array[], rootHash: Uint8Array): boolean {
  if (!isHash(rootHash)) return false;
  const root = rootFromInclusionProof(leafHash, index, size, path);
  return root !== null && equalBytes(root, rootHash);
}

/**
 * RFC 9162 section 2.1.4.2: does `path` prove the tree of toSize with toRoot extends the tree of fromSize with
 * fromRoot? The RFC's algorithm covers 0 < fromSize < toSize. For fromSize == toSize the proof is empty (section
 * 2.1.4.1) and holds iff the roots are equal. fromSize 0 is refused (false), matching consistencyProofRanges.
 */
export function verifyConsistency(fromSize: number, toSize: number, path: readonly Uint8Array[], fromRoot: Uint8Array, toRoot: Uint8Array): boolean {
  if (!isSize(fromSize) || !isSize(toSize) || !isPath(path) || !isHash(fromRoot) || !isHash(toRoot)) return false;
  if (fromSize === 0 || fromSize > toSize) return false;
  if (fromSize === toSize) return path.length === 0 && equalBytes(fromRoot, toRoot);
  // 1. An empty path cannot prove anything between different sizes.
  if (path.length === 0) return false;
  // 2. If first is an exact power of 2, prepend first_hash.
  const hashes = isPowerOfTwo(fromSize) ? [fromRoot, ...path] : path;
  // 3.
  let fn = fromSize - 1;
  let sn = toSize - 1;
  // 4. If LSB(fn) is set, right-shift both until it is not.
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5.
  let fr: Buffer = Buffer.from(hashes[0]);
  let sr: Buffer = Buffer.from(hashes[0]);
  // 6.
  for (let i = 1; i < hashes.length; i++) {
    const c = hashes[i];
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return sn === 0 && equalBytes(fr, fromRoot) && equalBytes(sr, toRoot);
}

function isPowerOfTwo(n: number): boolean {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}
