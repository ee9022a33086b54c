import fc from 'fast-check';
import {
  appendLeaves,
  consistencyProof,
  consistencyProofRanges,
  decodeFrontier,
  emptyFrontier,
  encodeFrontier,
  type Frontier,
  frontierRoot,
  hashNodes,
  inclusionProof,
  inclusionProofRanges,
  merkleRoot,
  nodeHash,
  nodeKey,
  type NodeId,
  proveWith,
  rangeNodes,
  rootFromInclusionProof,
  rootNodes,
  type StoredNode,
  TreeBuilder,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';
import { fetcher, flipBit, hex, LEAVES, ROOTS, STORE } from './helpers.js';

/**
 * Property tests (fast-check). Seeds are random per run; a failure prints its seed to replay. The bit-flip
 * properties flip every bit of every input, so they run fewer cases than the cheap ones.
 */
const RUNS = Number(process.env.FC_RUNS ?? 100);
const FLIP_RUNS = Math.max(1, Math.round(RUNS / 10));
const MAX = 2000;

const treeSize = fc.integer({ min: 1, max: MAX });
const sizeAndIndex = treeSize.chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
const fromAndTo = treeSize.chain((to) => fc.tuple(fc.integer({ min: 1, max: to }), fc.constant(to)));

/** Every complete node of level >= 1 of the tree of the given leaves, computed level by level (independent of appendLeaves). */
function referenceNodes(leaves: readonly Buffer[]): Map<string, string> {
  const nodes = new Map<string, string>();
  let level: Buffer[] = [...leaves];
  for (let l = 1; level.length >= 2; l++) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(nodeHash(level[i], level[i + 1]));
      nodes.set(`${l}:${next.length - 1}`, hex(next[next.length - 1]));
    }
    level = next;
  }
  return nodes;
}

/** Sorted `key=hash` lines; duplicates stay, so a node reported twice shows up as a difference. */
const listing = (nodes: Iterable<[string, string]>) => [...nodes].map(([key, hash]) => `${key}=${hash}`).sort().join('\n');
const reportedListing = (nodes: readonly StoredNode[]) => listing(nodes.map((n) => [nodeKey(n), hex(n.hash)] as [string, string]));

describe('merkle: properties', () => {
  it('appendLeaves in random chunks, persisting the frontier in between, reports every complete node once and the right root', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (size, chunks) => {
        const leaves = LEAVES.slice(0, size);
        let frontier: Frontier = emptyFrontier();
        const reported: StoredNode[] = [];
        for (let at = 0, c = 0; at < size; c++) {
          const chunk = leaves.slice(at, at + chunks[c % chunks.length]);
          const step = appendLeaves(frontier, chunk);
          reported.push(...step.nodes);
          frontier = decodeFrontier(step.frontier.size, encodeFrontier(step.frontier)); // as if stored and reloaded
          at += chunk.length;
        }
        expect(frontier.size).toBe(size);
        expect(reportedListing(reported)).toBe(listing(referenceNodes(leaves)));
        const root = hex(merkleRoot(leaves));
        expect(hex(frontierRoot(frontier))).toBe(root);
        expect(hex(hashNodes(rootNodes(size).map((id) => STORE.get(nodeKey(id))!)))).toBe(root);

        const builder = new TreeBuilder();
        const built = leaves.flatMap((leaf) => [...builder.push(leaf)]);
        const inOrder = (nodes: readonly StoredNode[]) => nodes.map((n) => `${nodeKey(n)}=${hex(n.hash)}`).join('\n');
        expect(inOrder(built)).toBe(inOrder(reported));
        expect(hex(builder.root())).toBe(root);
        expect(builder.frontier()).toEqual(frontier);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('TreeBuilder resumed from a frontier continues the same tree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: 300 }), (first, more) => {
        const whole = new TreeBuilder();
        LEAVES.slice(0, first + more).forEach((leaf) => whole.push(leaf));
        const resumed = new TreeBuilder(appendLeaves(emptyFrontier(), LEAVES.slice(0, first)).frontier);
        LEAVES.slice(first, first + more).forEach((leaf) => resumed.push(leaf));
        expect(resumed.size).toBe(first + more);
        expect(hex(resumed.root())).toBe(hex(whole.root()));
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('rangeNodes folds to the MTH of every RFC 9162 subtree range, and refuses the other ranges', () => {
    const validRange = fc.integer({ min: 1, max: MAX }).chain((length) => {
      let span = 1;
      while (span < length) span *= 2;
      return fc.integer({ min: 0, max: Math.floor((LEAVES.length - length) / span) }).map((k) => [k * span, k * span + length] as const);
    });
    fc.assert(
      fc.property(validRange, ([start, end]) => {
        const hashes = rangeNodes(start, end).map((id) => STORE.get(nodeKey(id))!);
        expect(hex(hashNodes(hashes))).toBe(hex(merkleRoot(LEAVES.slice(start, end))));
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 5000 }), (start, length) => {
        let span = 1;
        while (span < length) span *= 2;
        if (start % span === 0) expect(() => rangeNodes(start, start + length)).not.toThrow();
        else expect(() => rangeNodes(start, start + length)).toThrow(RangeError);
      }),
      { numRuns: RUNS * 5 },
    );
  });

  it('inclusion proofs from stored nodes equal the in-memory ones and verify', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, async ([size, index]) => {
        const leaves = LEAVES.slice(0, size);
        const want = inclusionProof(index, leaves);
        const { fetchNodes, calls } = fetcher(STORE);
        const ranges = inclusionProofRanges(index, size);
        const proof = await proveWith(ranges, fetchNodes);
        expect(proof.map(hex)).toEqual(want.map(hex));
        expect(calls.length).toBe(size > 1 ? 1 : 0);
        // O(log n) reads: at most one node per level per proof hash, in practice about two per level.
        expect(calls.flat().length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size)) + 1);
        const root = ROOTS[size];
        expect(verifyInclusion(leaves[index], index, size, proof, root)).toBe(true);
        expect(hex(rootFromInclusionProof(leaves[index], index, size, proof)!)).toBe(hex(root));
      }),
      { numRuns: RUNS },
    );
  });

  it('inclusion: every single-bit flip of a path element, the root or the leaf, and any truncation or extension, fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, ([size, index]) => {
        const leaves = LEAVES.slice(0, size);
        const proof = inclusionProof(index, leaves);
        const root = ROOTS[size];
        const leaf = leaves[index];
        const accepted: string[] = []; // plain checks, one expect at the end: thousands of expect() calls are slow
        const check = (what: string, ok: boolean) => ok && accepted.push(what);
        for (let bit = 0; bit < 256; bit++) {
          check(`leaf bit ${bit}`, verifyInclusion(flipBit(leaf, bit), index, size, proof, root));
          check(`root bit ${bit}`, verifyInclusion(leaf, index, size, proof, flipBit(root, bit)));
          for (let i = 0; i < proof.length; i++) {
            const wrong = proof.slice();
            wrong[i] = flipBit(proof[i], bit);
            check(`path[${i}] bit ${bit}`, verifyInclusion(leaf, index, size, wrong, root));
          }
        }
        for (let keep = 0; keep < proof.length; keep++) check(`first ${keep}`, verifyInclusion(leaf, index, size, proof.slice(0, keep), root));
        check('+root', verifyInclusion(leaf, index, size, [...proof, root], root));
        check('+leaf', verifyInclusion(leaf, index, size, [...proof, leaf], root));
        check('leaf+', verifyInclusion(leaf, index, size, [leaf, ...proof], root));
        expect(accepted).toEqual([]);
      }),
      { numRuns: FLIP_RUNS },
    );
  });

  it('inclusion: another index or size verifies the same path exactly when it has the same shape', () => {
    // The verifier only sees sizes through the left/right pattern of the path; a different (index, size) with the
    // same pattern combines the same hashes the same way (that is inherent to RFC 9162 proofs, not a weakness here).
    const shape = (index: number, size: number) =>
      index < size ? inclusionProofRanges(index, size).map(([, end]) => (end <= index ? 'L' : 'R')).join('') : null;
    fc.assert(
      fc.property(sizeAndIndex, fc.integer({ min: 0, max: MAX + 10 }), fc.integer({ min: 0, max: MAX + 10 }), ([size, index], otherIndex, otherSize) => {
        const leaves = LEAVES.slice(0, size);
        const proof = inclusionProof(index, leaves);
        const root = ROOTS[size];
        for (const [i, s] of [[otherIndex, size], [index, otherSize], [otherIndex, otherSize], [index ^ 1, size], [index, size + 1]]) {
          expect([i, s, verifyInclusion(leaves[index], i, s, proof, root)]).toEqual([i, s, shape(i, s) === shape(index, size)]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('consistency proofs from stored nodes equal the in-memory ones and verify', async () => {
    await fc.assert(
      fc.asyncProperty(fromAndTo, async ([from, to]) => {
        const want = consistencyProof(from, LEAVES.slice(0, to));
        const { fetchNodes, calls } = fetcher(STORE);
        const proof = await proveWith(consistencyProofRanges(from, to), fetchNodes);
        expect(proof.map(hex)).toEqual(want.map(hex));
        expect(calls.length).toBe(from === to ? 0 : 1);
        expect(verifyConsistency(from, to, proof, ROOTS[from], ROOTS[to])).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('consistency: every single-bit flip of a path element or either root, and any truncation or extension, fails', () => {
    fc.assert(
      fc.property(fromAndTo, ([from, to]) => {
        const proof = consistencyProof(from, LEAVES.slice(0, to));
        const fromRoot = ROOTS[from];
        const toRoot = ROOTS[to];
        const accepted: string[] = [];
        const check = (what: string, ok: boolean) => ok && accepted.push(what);
        for (let bit = 0; bit < 256; bit++) {
          check(`fromRoot bit ${bit}`, verifyConsistency(from, to, proof, flipBit(fromRoot, bit), toRoot));
          check(`toRoot bit ${bit}`, verifyConsistency(from, to, proof, fromRoot, flipBit(toRoot, bit)));
          for (let i = 0; i < proof.length; i++) {
            const wrong = proof.slice();
            wrong[i] = flipBit(proof[i], bit);
            check(`path[${i}] bit ${bit}`, verifyConsistency(from, to, wrong, fromRoot, toRoot));
          }
        }
        for (let keep = 0; keep < proof.length; keep++) check(`first ${keep}`, verifyConsistency(from, to, proof.slice(0, keep), fromRoot, toRoot));
        check('+toRoot', verifyConsistency(from, to, [...proof, toRoot], fromRoot, toRoot));
        check('+fromRoot', verifyConsistency(from, to, [...proof, fromRoot], fromRoot, toRoot));
        check('fromRoot+', verifyConsistency(from, to, [fromRoot, ...proof], fromRoot, toRoot));
        expect(accepted).toEqual([]);
      }),
      { numRuns: FLIP_RUNS },
    );
  });

  it('consistency: other sizes verify the same proof exactly when they have the same shape', () => {
    // As for inclusion: the pattern of old-side (L) and new-side (R) ranges, and whether fromSize is a power of two
    // (then the old root is implicit), is all the verifier learns from the sizes.
    const isPowerOfTwo = (n: number) => n > 0 && 2 ** Math.round(Math.log2(n)) === n;
    const shape = (from: number, to: number) =>
      from >= 1 && from <= to
        ? `${isPowerOfTwo(from) ? 'P' : '-'}${consistencyProofRanges(from, to).map(([, end]) => (end <= from ? 'L' : 'R')).join('')}`
        : null;
    fc.assert(
      fc.property(fromAndTo, fc.integer({ min: 0, max: MAX + 10 }), fc.integer({ min: 0, max: MAX + 10 }), ([from, to], otherFrom, otherTo) => {
        const proof = consistencyProof(from, LEAVES.slice(0, to));
        const fromRoot = ROOTS[from];
        const toRoot = ROOTS[to];
        if (from === to) return; // the empty proof: any equal sizes with equal roots verify
        for (const [f, t] of [[otherFrom, to], [from, otherTo], [otherFrom, otherTo], [from, to + 1], [from - 1, to]]) {
          expect([f, t, verifyConsistency(f, t, proof, fromRoot, toRoot)]).toEqual([f, t, shape(f, t) === shape(from, to)]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('exhaustively for trees up to 40 leaves: stored-node proofs equal the in-memory ones and verify', async () => {
    const mismatches: string[] = [];
    const { fetchNodes } = fetcher(STORE);
    for (let to = 1; to <= 40; to++) {
      const leaves = LEAVES.slice(0, to);
      for (let i = 0; i < to; i++) {
        const proof = await proveWith(inclusionProofRanges(i, to), fetchNodes);
        if (proof.map(hex).join() !== inclusionProof(i, leaves).map(hex).join()) mismatches.push(`inclusion ${i}/${to}`);
        if (!verifyInclusion(leaves[i], i, to, proof, ROOTS[to])) mismatches.push(`verifyInclusion ${i}/${to}`);
      }
      for (let from = 1; from <= to; from++) {
        const proof = await proveWith(consistencyProofRanges(from, to), fetchNodes);
        if (proof.map(hex).join() !== consistencyProof(from, leaves).map(hex).join()) mismatches.push(`consistency ${from}->${to}`);
        if (!verifyConsistency(from, to, proof, ROOTS[from], ROOTS[to])) mismatches.push(`verifyConsistency ${from}->${to}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('the verifiers never throw, whatever they are given', () => {
    const junk = fc.oneof(fc.anything(), fc.uint8Array({ minLength: 31, maxLength: 33 }), fc.constant(LEAVES[0]));
    const number = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.double(), fc.constant(2 ** 53), fc.constant(Number.NaN));
    fc.assert(
      fc.property(junk, number, number, fc.oneof(fc.array(junk, { maxLength: 6 }), junk), junk, (a, b, c, path, e) => {
        expect(typeof verifyInclusion(a as Uint8Array, b, c, path as Uint8Array[], e as Uint8Array)).toBe('boolean');
        expect(typeof verifyConsistency(b, c, path as Uint8Array[], a as Uint8Array, e as Uint8Array)).toBe('boolean');
        const root = rootFromInclusionProof(a as Uint8Array, b, c, path as Uint8Array[]);
        expect(root === null || root.length === 32).toBe(true);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

/**
 * Sizes past 2^31 and up to 2^53 - 1, where 32-bit bit operations would wrap. A tree whose leaves are all equal has
 * P(level) as every perfect subtree hash, so any stored node can be answered without building the tree; the
 * generator (range recursion) and the verifier (RFC bit walk) are still independent, and P(a) ⊕ P(b) differs from
 * P(b) ⊕ P(a), so ordering mistakes show.
 */
describe('merkle: sizes up to 2^53 - 1', () => {
  const perfect: Buffer[] = [LEAVES[7]];
  for (let level = 1; level <= 53; level++) perfect.push(nodeHash(perfect[level - 1], perfect[level - 1]));
  const fetchUniform = async (ids: NodeId[]) => new Map(ids.map((id) => [nodeKey(id), perfect[id.level]] as const));
  const rootOf = (size: number) => hashNodes(rootNodes(size).map((id) => perfect[id.level]));

  const bigSize = fc.oneof(
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 31, max: 53 }).chain((bits) => fc.integer({ min: -3, max: 3 }).map((d) => Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, 2 ** bits + d)))),
  );
  const bigIndex = (size: number) => fc.oneof(fc.integer({ min: 0, max: size - 1 }), fc.constantFrom(0, size - 1, Math.floor(size / 2)));

  it('inclusion ranges tile the tree around the leaf, and the proofs verify', async () => {
    await fc.assert(
      fc.asyncProperty(bigSize.chain((size) => fc.tuple(fc.constant(size), bigIndex(size))), async ([size, index]) => {
        const ranges = inclusionProofRanges(index, size);
        const tiles = [...ranges, [index, index + 1] as [number, number]].sort((a, b) => a[0] - b[0]);
        expect(tiles[0][0]).toBe(0);
        for (let i = 1; i < tiles.length; i++) expect(tiles[i][0]).toBe(tiles[i - 1][1]);
        expect(tiles[tiles.length - 1][1]).toBe(size);
        const proof = await proveWith(ranges, fetchUniform);
        expect(proof.length).toBeLessThanOrEqual(53);
        const root = rootOf(size);
        expect(verifyInclusion(perfect[0], index, size, proof, root)).toBe(true);
        expect(verifyInclusion(perfect[0], index, size, proof, flipBit(root, 0))).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(perfect[0], index, size, proof.slice(1), root)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('consistency proofs verify and fail for other sizes', async () => {
    await fc.assert(
      fc.asyncProperty(bigSize.chain((to) => fc.tuple(bigIndex(to).map((i) => i + 1), fc.constant(to))), async ([from, to]) => {
        const ranges = consistencyProofRanges(from, to);
        for (const [start, end] of ranges) expect(start >= 0 && end <= to && start < end).toBe(true);
        const proof = await proveWith(ranges, fetchUniform);
        const fromRoot = rootOf(from);
        const toRoot = rootOf(to);
        expect(verifyConsistency(from, to, proof, fromRoot, toRoot)).toBe(true);
        expect(verifyConsistency(from, to, proof, fromRoot, flipBit(toRoot, 255))).toBe(false);
        if (from < to) expect(verifyConsistency(from, to, proof.slice(0, -1), fromRoot, toRoot)).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('frontiers carry past 2^32 leaves', () => {
    const size = 2 ** 32 + 2 ** 31 + 1; // frontier: levels 32, 31, 0
    const frontier: Frontier = { size, hashes: [perfect[32], perfect[31], perfect[0]] };
    const { frontier: next, nodes } = appendLeaves(frontier, [perfect[0]]);
    expect(next.size).toBe(size + 1);
    expect(nodes.map(({ level, index }) => ({ level, index }))).toEqual([{ level: 1, index: (size - 1) / 2 }]);
    expect(hex(frontierRoot(next))).toBe(hex(rootOf(size + 1)));
    expect(hex(frontierRoot(frontier))).toBe(hex(rootOf(size)));
  });
});
