import { assertHash, EMPTY_ROOT, nodeHash } from './hash.js';
import { assertSize, splitPoint } from './sizes.js';

/**
 * In-memory RFC 9162 section 2.1 algorithms, written as the RFC's recursion over the leaf hashes rather than over
 * stored nodes, so the tests can hold the stored-node path (rangeNodes, proveWith, appendLeaves) against them.
 * O(n) per call: meant for tests and small trees.
 */

type Leaves = readonly Uint8Array[];

function checkLeaves(leafHashes: Leaves): void {
  for (let i = 0; i < leafHashes.length; i++) assertHash(leafHashes[i], `leaf hash ${i}`);
}

/** MTH(D[lo:hi]) over already-hashed leaves. */
function mth(leaves: Leaves, lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return Buffer.from(EMPTY_ROOT);
  if (n === 1) return Buffer.from(leaves[lo]);
  const mid = lo + splitPoint(n);
  return nodeHash(mth(leaves, lo, mid), mth(leaves, mid, hi));
}

/** MTH of the tree whose leaf hashes (not leaf data) are given. */
export function merkleRoot(leafHashes: Leaves): Buffer {
  checkLeaves(leafHashes);
  return mth(leafHashes, 0, leafHashes.length);
}

/** PATH(m, D[lo:hi]) with m absolute. */
function path(leaves: Leaves, m: number, lo: number, hi: number): Buffer[] {
  if (hi - lo <= 1) return [];
  const mid = lo + splitPoint(hi - lo);
  return m < mid ? [...path(leaves, m, lo, mid), mth(leaves, mid, hi)] : [...path(leaves, m, mid, hi), mth(leaves, lo, mid)];
}

/** The RFC 9162 inclusion path of leaf `index` in the tree of all the given leaf hashes. */
export function inclusionProof(index: number, leafHashes: Leaves): Buffer[] {
  assertSize(index, 'leaf index');
  checkLeaves(leafHashes);
  if (index >= leafHashes.length) throw new RangeError(`inclusion proof: leaf index ${index} is not in a tree of size ${leafHashes.length}`);
  return path(leafHashes, index, 0, leafHashes.length);
}

/** SUBPROOF(m, D[lo:hi], b) with m absolute. */
function subproof(leaves: Leaves, m: number, lo: number, hi: number, b: boolean): Buffer[] {
  if (m === hi) return b ? [] : [mth(leaves, lo, hi)];
  const mid = lo + splitPoint(hi - lo);
  return m <= mid
    ? [...subproof(leaves, m, lo, mid, b), mth(leaves, mid, hi)]
    : [...subproof(leaves, m, mid, hi, false), mth(leaves, lo, mid)];
}

/** The RFC 9162 consistency proof from the tree of the first fromSize leaves to the tree of all of them. */
export function consistencyProof(fromSize: number, leafHashes: Leaves): Buffer[] {
  assertSize(fromSize, 'fromSize');
  checkLeaves(leafHashes);
  if (fromSize === 0) throw new RangeError('consistency proof: fromSize must be at least 1 (RFC 9162 defines no proof from the empty tree)');
  if (fromSize > leafHashes.length) throw new RangeError(`consistency proof: fromSize ${fromSize} is larger than toSize ${leafHashes.length}`);
  return subproof(leafHashes, fromSize, 0, leafHashes.length, true);
}
