import { assertHash, EMPTY_ROOT, HASH_SIZE, nodeHash } from './hash.js';
import type { StoredNode } from './nodes.js';
import { assertSize, popcount } from './sizes.js';

/**
 * The compact range [0, size): roots of the perfect subtrees along the tree's right edge, largest first, one per
 * set bit of size. It is all a writer needs to append leaves and know the new root without reading the tree.
 */
export interface Frontier {
  size: number;
  hashes: Buffer[];
}

/** The frontier of the empty tree (a fresh object each call, so nobody shares a mutable constant). */
export function emptyFrontier(): Frontier {
  return { size: 0, hashes: [] };
}

function assertFrontier(frontier: Frontier): void {
  assertSize(frontier?.size, 'frontier size');
  const expected = popcount(frontier.size);
  if (!Array.isArray(frontier.hashes) || frontier.hashes.length !== expected) {
    throw new RangeError(`a frontier of size ${frontier.size} must hold ${expected} hashes, got ${frontier.hashes?.length}`);
  }
  frontier.hashes.forEach((hash, i) => assertHash(hash, `frontier hash ${i}`));
}

/** Shared by appendLeaves and TreeBuilder: pushes one leaf onto the right-edge stack, reporting merged nodes. */
function pushLeaf(stack: Buffer[], size: number, leaf: Uint8Array, onNode: (node: StoredNode) => void): void {
  let hash: Buffer = Buffer.from(leaf); // a copy: callers may reuse their buffer
  let index = size;
  let level = 0;
  // Each trailing one bit of the old size is a perfect subtree on the stack that the new leaf completes a parent of.
  while (index % 2 === 1) {
    hash = nodeHash(stack.pop()!, hash);
    index = (index - 1) / 2;
    level++;
    onNode({ level, index, hash });
  }
  stack.push(hash);
}

/**
 * Appends leaf hashes to the tree the frontier describes. Returns the new frontier and every node of level >= 1
 * that the new leaves completed, in completion order (level-0 leaves are the caller's to store). The input
 * frontier is not modified.
 */
export function appendLeaves(frontier: Frontier, leafHashes: readonly Uint8Array[]): { frontier: Frontier; nodes: StoredNode[] } {
  assertFrontier(frontier);
  leafHashes.forEach((hash, i) => assertHash(hash, `leaf hash ${i}`));
  if (frontier.size + leafHashes.length > Number.MAX_SAFE_INTEGER) throw new RangeError('appendLeaves: tree size would exceed 2^53 - 1');
  const stack = frontier.hashes.slice();
  const nodes: StoredNode[] = [];
  const collect = (node: StoredNode) => nodes.push(node);
  let size = frontier.size;
  for (const leaf of leafHashes) pushLeaf(stack, size++, leaf, collect);
  return { frontier: { size, hashes: stack }, nodes };
}

/** MTH of the whole tree: the frontier folded from the right. EMPTY_ROOT for size 0. */
export function frontierRoot(frontier: Frontier): Buffer {
  assertFrontier(frontier);
  return foldRight(frontier.hashes);
}

function foldRight(hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return Buffer.from(EMPTY_ROOT);
  let hash = hashes[hashes.length - 1];
  for (let i = hashes.length - 2; i >= 0; i--) hash = nodeHash(hashes[i], hash);
  return Buffer.from(hash);
}

/** The frontier's hashes concatenated (32 bytes each, largest subtree first); the size is stored by the caller. */
export function encodeFrontier(frontier: Frontier): Buffer {
  assertFrontier(frontier);
  return Buffer.concat(frontier.hashes);
}

/** Inverse of encodeFrontier; throws a RangeError unless bytes hold exactly popcount(size) hashes. */
export function decodeFrontier(size: number, bytes: Uint8Array): Frontier {
  assertSize(size, 'frontier size');
  const count = popcount(size);
  if (!(bytes instanceof Uint8Array) || bytes.length !== count * HASH_SIZE) {
    throw new RangeError(`a frontier of size ${size} encodes as ${count * HASH_SIZE} bytes, got ${bytes?.length}`);
  }
  const hashes: Buffer[] = [];
  for (let i = 0; i < count; i++) hashes.push(Buffer.from(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  return { size, hashes };
}

const NONE: readonly StoredNode[] = Object.freeze([]);

/**
 * Streaming rebuild of a tree from its leaf hashes in order (e.g. verifying a whole log): O(log n) memory, one
 * SHA-256 per completed node, and no allocation besides the hashes and the nodes it reports.
 */
export class TreeBuilder {
  private readonly stack: Buffer[];
  private count: number;
  private completed: StoredNode[] = [];
  private readonly collect = (node: StoredNode) => {
    this.completed.push(node);
  };

  /** Starts empty, or resumes from a stored frontier. */
  constructor(frontier: Frontier = emptyFrontier()) {
    assertFrontier(frontier);
    this.stack = frontier.hashes.map((hash) => Buffer.from(hash));
    this.count = frontier.size;
  }

  get size(): number {
    return this.count;
  }

  /** Appends one leaf hash; returns the nodes of level >= 1 it completed, lowest first (a shared empty array if none). */
  push(leafHash: Uint8Array): readonly StoredNode[] {
    assertHash(leafHash, 'leaf hash');
    if (this.count === Number.MAX_SAFE_INTEGER) throw new RangeError('TreeBuilder: tree size would exceed 2^53 - 1');
    if (this.count % 2 === 0) {
      // Even size: the leaf completes nothing (the common half of all pushes), so skip the bookkeeping.
      this.stack.push(Buffer.from(leafHash));
      this.count++;
      return NONE;
    }
    this.completed = [];
    pushLeaf(this.stack, this.count++, leafHash, this.collect);
    return this.completed;
  }

  /** MTH of the leaves pushed so far (EMPTY_ROOT when none): O(log n) hashes. */
  root(): Buffer {
    return foldRight(this.stack);
  }

  /** A copy of the current frontier, to persist or to hand to appendLeaves. */
  frontier(): Frontier {
    return { size: this.count, hashes: this.stack.map((hash) => Buffer.from(hash)) };
  }
}
