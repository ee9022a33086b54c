import { assertHash, EMPTY_ROOT, nodeHash } from './hash.js';
import { assertSize, bitCeil } from './sizes.js';

/**
 * A stored node: the hash of the complete, aligned subtree over leaves [index * 2^level, (index + 1) * 2^level).
 * Level 0 is a leaf hash. Only these nodes are ever stored; every other subtree hash is recomputed from them.
 */
export interface NodeId {
  level: number;
  index: number;
}

/** A stored node with its hash, as produced by appendLeaves and TreeBuilder. */
export type StoredNode = NodeId & { hash: Buffer };

/** A leaf range [start, end) whose MTH appears in a proof. */
export type LeafRange = [start: number, end: number];

/** The map key proveWith looks nodes up by. */
export function nodeKey(id: NodeId): string {
  return `${id.level}:${id.index}`;
}

/**
 * Decomposes [start, end) into complete aligned subtrees, left to right (largest first).
 *
 * Supported ranges are exactly the subtrees of the RFC 9162 recursion: [start, end) with start < end and start a
 * multiple of the smallest power of two >= end - start. Those are the nodes of the tree of size `end` (its perfect
 * subtrees and its right-edge subtrees), and every range an inclusion or consistency proof asks for is one of them.
 * For such a range the binary digits of end - start, largest first, give aligned pieces, and folding them from the
 * right (hashNodes) is MTH(D[start:end]). Any other range throws a RangeError: its decomposition would exist but
 * folding it would not be an MTH the RFC defines. [0, 0) is allowed and has no nodes (MTH({}) = EMPTY_ROOT).
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  assertSize(start, 'start');
  assertSize(end, 'end');
  if (start === 0 && end === 0) return [];
  if (end <= start) throw new RangeError(`leaf range [${start}, ${end}) is empty or reversed`);
  const length = end - start;
  const span = bitCeil(length);
  if (start % span !== 0) {
    throw new RangeError(
      `leaf range [${start}, ${end}) is not an RFC 9162 subtree: start must be a multiple of ${span} (the smallest power of two >= ${length})`,
    );
  }
  let size = 1;
  let level = 0;
  while (size * 2 <= length) {
    size *= 2;
    level++;
  }
  const nodes: NodeId[] = [];
  let position = start;
  let rest = length;
  for (; rest > 0; size /= 2, level--) {
    if (rest >= size) {
      nodes.push({ level, index: position / size });
      position += size;
      rest -= size;
    }
  }
  return nodes;
}

/** The stored nodes whose fold is the root of the tree of the given size (binary digits of size, largest first). */
export function rootNodes(size: number): NodeId[] {
  return rangeNodes(0, size);
}

/**
 * Folds the hashes of a rangeNodes decomposition, in the same order, into the MTH of the range:
 * h0 ⊕ (h1 ⊕ (… ⊕ hk)) with ⊕ = nodeHash. No hashes: EMPTY_ROOT (the [0, 0) decomposition).
 */
export function hashNodes(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return Buffer.from(EMPTY_ROOT);
  const last = hashes[hashes.length - 1];
  assertHash(last, 'node hash');
  let hash: Buffer = Buffer.from(last);
  for (let i = hashes.length - 2; i >= 0; i--) hash = nodeHash(hashes[i], hash);
  return hash;
}

/** Every node the ranges need, each once, in first-use order: what a server fetches in a single query. */
export function nodesForRanges(ranges: readonly (readonly [number, number])[]): NodeId[] {
  const seen = new Set<string>();
  const ids: NodeId[] = [];
  for (const [start, end] of ranges) {
    for (const id of rangeNodes(start, end)) {
      const key = nodeKey(id);
      if (!seen.has(key)) {
        seen.add(key);
        ids.push(id);
      }
    }
  }
  return ids;
}
