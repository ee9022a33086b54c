import { hashNodes, type LeafRange, type NodeId, nodeKey, nodesForRanges, rangeNodes } from './nodes.js';
import { assertSize, splitPoint } from './sizes.js';

/**
 * The leaf ranges whose MTHs are, in order, the RFC 9162 section 2.1.3.1 inclusion path PATH(index, D[0:size]):
 * the sibling nearest the leaf first, the root's other child last. Throws a RangeError unless 0 <= index < size.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertSize(index, 'leaf index');
  assertSize(size, 'tree size');
  if (size === 0) throw new RangeError('inclusion proof: the empty tree has no leaves');
  if (index >= size) throw new RangeError(`inclusion proof: leaf index ${index} is not in a tree of size ${size}`);
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  // Walk down from the root: the recursion appends each sibling after the deeper path, so collect and reverse.
  while (hi - lo > 1) {
    const mid = lo + splitPoint(hi - lo);
    if (index < mid) {
      ranges.push([mid, hi]);
      hi = mid;
    } else {
      ranges.push([lo, mid]);
      lo = mid;
    }
  }
  return ranges.reverse();
}

/**
 * The leaf ranges whose MTHs are, in order, the RFC 9162 section 2.1.4.1 consistency proof
 * PROOF(fromSize, D[0:toSize]) = SUBPROOF(fromSize, D[0:toSize], true).
 * fromSize == toSize gives the empty proof (as the RFC says). fromSize 0 is refused: the RFC defines no proof from
 * the empty tree (it is trivially consistent with everything, so there is nothing to prove).
 */
export function consistencyProofRanges(fromSize: number, toSize: number): LeafRange[] {
  assertSize(fromSize, 'fromSize');
  assertSize(toSize, 'toSize');
  if (fromSize === 0) throw new RangeError('consistency proof: fromSize must be at least 1 (RFC 9162 defines no proof from the empty tree)');
  if (fromSize > toSize) throw new RangeError(`consistency proof: fromSize ${fromSize} is larger than toSize ${toSize}`);
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = toSize;
  let complete = true; // the RFC's b flag: true while the current subtree's left edge is the old root's
  for (;;) {
    if (fromSize === hi) {
      // SUBPROOF(m, D[m], b): the old tree's root is known to the verifier only if b is still true.
      if (!complete) ranges.push([lo, hi]);
      break;
    }
    const mid = lo + splitPoint(hi - lo);
    if (fromSize <= mid) {
      ranges.push([mid, hi]);
      hi = mid;
    } else {
      ranges.push([lo, mid]);
      lo = mid;
      complete = false;
    }
  }
  return ranges.reverse();
}

/** Fetches stored nodes by id; answers keyed by nodeKey(id). Level-0 ids are leaf hashes. */
export type FetchNodes = (ids: NodeId[]) => Promise<Map<string, Uint8Array>>;

/**
 * Turns proof ranges into proof hashes with a single fetchNodes call (none when no node is needed), so a server
 * answers a proof in O(log n) stored reads and one round trip. Throws if a requested node is missing.
 */
export async function proveWith(ranges: readonly (readonly [number, number])[], fetchNodes: FetchNodes): Promise<Buffer[]> {
  const ids = nodesForRanges(ranges);
  const found = ids.length > 0 ? await fetchNodes(ids) : new Map<string, Uint8Array>();
  return ranges.map(([start, end]) =>
    hashNodes(
      rangeNodes(start, end).map((id) => {
        const hash = found.get(nodeKey(id));
        if (!hash) throw new Error(`proveWith: stored node ${nodeKey(id)} was not returned by fetchNodes`);
        return hash;
      }),
    ),
  );
}
