import {
  appendLeaves,
  consistencyProof,
  consistencyProofRanges,
  decodeFrontier,
  emptyFrontier,
  encodeFrontier,
  EMPTY_ROOT,
  fromHex,
  frontierRoot,
  hashNodes,
  inclusionProof,
  inclusionProofRanges,
  leafHash,
  merkleRoot,
  nodeKey,
  proveWith,
  rangeNodes,
  rootFromInclusionProof,
  rootNodes,
  TreeBuilder,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';
import { fetcher, hex, storeFor, vectors } from './helpers.js';

type Constants = { leafInputs: string[]; nodeHashes: string[][]; rootHashes: string[]; compactTrees: [number, number][][] };
type HashProofs = {
  inclusion: { index: number; size: number; proof: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
};
type VerifyTest = HashProofs & {
  leaves: string[];
  roots: string[];
  someHash: string;
  emptyTreeHash: string;
  verifyInclusionBadProbes: { probes: [number, number][] };
  verifyInclusionSingleEntry: { cases: { root: 'hash' | 'empty'; leaf: 'hash' | 'empty'; wantErr: boolean }[] };
  verifyConsistencyEdgeCases: {
    cases: { size1: number; size2: number; root1: string; root2: string; proof: 'none' | 'emptyTreeHash'; wantErr: boolean; ours?: boolean }[];
  };
};
type NodeIdProofs = {
  inclusion: { size: number; index: number; proof: [number, number][][] }[];
  inclusionErrors: [number, number][];
  consistency: { size1: number; size2: number; proof: [number, number][][] }[];
  consistencyErrors: [number, number][];
};

const constants = vectors<Constants>('testonly-constants.json');
const verifyTest = vectors<VerifyTest>('verify-test.json');
const referenceTest = vectors<HashProofs>('reference-test.json');
const nodeIds = vectors<NodeIdProofs>('proof-node-ids.json');

const leaves = constants.leafInputs.map((input) => leafHash(fromHex(input)));
const nodeHash = (level: number, index: number) => fromHex(constants.nodeHashes[level][index]);
const store = storeFor(leaves);
const hexes = (hashes: Uint8Array[]) => hashes.map(hex);

describe('transparency-dev/merkle testonly/constants.go', () => {
  it('leaf hashes are level 0 of NodeHashes()', () => {
    expect(leaves.map(hex)).toEqual(constants.nodeHashes[0]);
  });

  it.each(constants.rootHashes.map((root, size) => ({ size, root })))('root of size $size', ({ size, root }) => {
    const prefix = leaves.slice(0, size);
    expect(hex(merkleRoot(prefix))).toBe(root);
    expect(hex(hashNodes(rootNodes(size).map(({ level, index }) => nodeHash(level, index))))).toBe(root);
    expect(hex(frontierRoot(appendLeaves(emptyFrontier(), prefix).frontier))).toBe(root);
    const builder = new TreeBuilder();
    prefix.forEach((leaf) => builder.push(leaf));
    expect(builder.size).toBe(size);
    expect(hex(builder.root())).toBe(root);
    if (size === 0) expect(hex(EMPTY_ROOT)).toBe(root);
  });

  it('every complete subtree hash is the MTH of its leaves, and rangeNodes of it is the node itself', () => {
    constants.nodeHashes.forEach((level, l) =>
      level.forEach((hash, index) => {
        const start = index * 2 ** l;
        expect(rangeNodes(start, start + 2 ** l)).toEqual([{ level: l, index }]);
        expect(hex(merkleRoot(leaves.slice(start, start + 2 ** l)))).toBe(hash);
      }),
    );
  });

  it('appendLeaves (one leaf at a time and all at once) and TreeBuilder report exactly the level >= 1 nodes', () => {
    const expected = constants.nodeHashes.flatMap((level, l) => (l === 0 ? [] : level.map((hash, index) => `${l}:${index}=${hash}`)));
    const show = (nodes: { level: number; index: number; hash: Buffer }[]) => nodes.map((n) => `${nodeKey(n)}=${hex(n.hash)}`).sort();
    expect(show(appendLeaves(emptyFrontier(), leaves).nodes)).toEqual([...expected].sort());
    let frontier = emptyFrontier();
    const oneByOne = leaves.flatMap((leaf) => {
      const step = appendLeaves(frontier, [leaf]);
      frontier = step.frontier;
      return step.nodes;
    });
    expect(show(oneByOne)).toEqual([...expected].sort());
    const builder = new TreeBuilder();
    expect(show(leaves.flatMap((leaf) => [...builder.push(leaf)]))).toEqual([...expected].sort());
  });

  it.each(constants.compactTrees.map((refs, size) => ({ size, refs })))('frontier of size $size is CompactTrees()[$size]', ({ size, refs }) => {
    const want = refs.map(([level, index]) => constants.nodeHashes[level][index]);
    const { frontier } = appendLeaves(emptyFrontier(), leaves.slice(0, size));
    expect(frontier.size).toBe(size);
    expect(frontier.hashes.map(hex)).toEqual(want);
    expect(decodeFrontier(size, encodeFrontier(frontier))).toEqual(frontier);
    const builder = new TreeBuilder();
    leaves.slice(0, size).forEach((leaf) => builder.push(leaf));
    expect(builder.frontier().hashes.map(hex)).toEqual(want);
  });
});

/** The probes of verify_test.go corruptInclusionProof, which must all fail. */
function inclusionProbes(index: number, size: number, proof: Buffer[], root: Buffer, leaf: Buffer, someHash: Buffer, emptyTree: Buffer) {
  const probes: [string, Uint8Array, number, number, Uint8Array[], Uint8Array][] = [
    ['leafIndex - 1', leaf, index - 1, size, proof, root],
    ['leafIndex + 1', leaf, index + 1, size, proof, root],
    ['leafIndex ^ 2', leaf, index ^ 2, size, proof, root],
    ['treeSize * 2', leaf, index, size * 2, proof, root],
    ['treeSize / 2', leaf, index, Math.floor(size / 2), proof, root],
    ['wrong leaf', Buffer.from('WrongLeaf'), index, size, proof, root],
    ['empty root', leaf, index, size, proof, emptyTree],
    ['random root', leaf, index, size, proof, someHash],
    ['trailing garbage', leaf, index, size, [...proof, Buffer.alloc(0)], root],
    ['trailing root', leaf, index, size, [...proof, root], root],
    ['preceding garbage', leaf, index, size, [Buffer.alloc(0), ...proof], root],
    ['preceding root', leaf, index, size, [root, ...proof], root],
  ];
  proof.forEach((_, i) => {
    const wrong = proof.map((p) => Buffer.from(p));
    wrong[i][0] ^= 8;
    probes.push([`modified proof[${i}] bit 3`, leaf, index, size, wrong, root]);
  });
  if (proof.length > 0) probes.push(['removed component', leaf, index, size, proof.slice(0, -1), root]);
  if (proof.length > 1) probes.push(['inserted component', leaf, index, size, [proof[0], someHash, ...proof.slice(1)], root]);
  return probes;
}

/** The probes of verify_test.go corruptConsistencyProof, which must all fail. */
function consistencyProbes(size1: number, size2: number, root1: Buffer, root2: Buffer, proof: Buffer[]) {
  const wrongRoot = Buffer.from('WrongRoot');
  const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
    ['size1 - 1', size1 - 1, size2, root1, root2, proof],
    ['size1 + 1', size1 + 1, size2, root1, root2, proof],
    ['size1 ^ 2', size1 ^ 2, size2, root1, root2, proof],
    ['size2 * 2', size1, size2 * 2, root1, root2, proof],
    ['size2 / 2', size1, Math.floor(size2 / 2), root1, root2, proof],
    ['wrong root1', size1, size2, wrongRoot, root2, proof],
    ['wrong root2', size1, size2, root1, wrongRoot, proof],
    ['swapped roots', size1, size2, root2, root1, proof],
    ['empty proof', size1, size2, root1, root2, []],
    ['trailing garbage', size1, size2, root1, root2, [...proof, Buffer.alloc(0)]],
    ['trailing root1', size1, size2, root1, root2, [...proof, root1]],
    ['trailing root2', size1, size2, root1, root2, [...proof, root2]],
    ['preceding garbage', size1, size2, root1, root2, [Buffer.alloc(0), ...proof]],
    ['preceding root1', size1, size2, root1, root2, [root1, ...proof]],
    ['preceding root2', size1, size2, root1, root2, [root2, ...proof]],
    ['preceding proof[0]', size1, size2, root1, root2, [proof[0], ...proof]],
  ];
  if (proof.length > 0) probes.push(['truncated proof', size1, size2, root1, root2, proof.slice(0, -1)]);
  proof.forEach((_, i) => {
    const wrong = proof.map((p) => Buffer.from(p));
    wrong[i][0] ^= 16;
    probes.push([`modified proof[${i}] bit 4`, size1, size2, root1, root2, wrong]);
  });
  return probes;
}

describe.each([
  ['proof/verify_test.go', verifyTest],
  ['testonly/reference_test.go', referenceTest],
])('transparency-dev/merkle %s proofs', (_, table) => {
  const someHash = fromHex(verifyTest.someHash);
  const emptyTree = fromHex(verifyTest.emptyTreeHash);
  const root = (size: number) => fromHex(constants.rootHashes[size]);

  it.each(table.inclusion)('inclusion of leaf $index in size $size', async ({ index, size, proof }) => {
    const want = proof.map(fromHex);
    const prefix = leaves.slice(0, size);
    expect(hexes(inclusionProof(index, prefix))).toEqual(proof);
    const { fetchNodes, calls } = fetcher(store);
    expect(hexes(await proveWith(inclusionProofRanges(index, size), fetchNodes))).toEqual(proof);
    expect(calls.length).toBe(want.length > 0 ? 1 : 0);

    expect(verifyInclusion(leaves[index], index, size, want, root(size))).toBe(true);
    expect(hex(rootFromInclusionProof(leaves[index], index, size, want)!)).toBe(constants.rootHashes[size]);
    for (const [desc, leaf, i, s, p, r] of inclusionProbes(index, size, want, root(size), leaves[index], someHash, emptyTree)) {
      expect([desc, verifyInclusion(leaf, i, s, p, r)]).toEqual([desc, false]);
    }
  });

  it.each(table.consistency)('consistency from $size1 to $size2', async ({ size1, size2, proof }) => {
    const want = proof.map(fromHex);
    expect(hexes(consistencyProof(size1, leaves.slice(0, size2)))).toEqual(proof);
    const { fetchNodes } = fetcher(store);
    expect(hexes(await proveWith(consistencyProofRanges(size1, size2), fetchNodes))).toEqual(proof);

    expect(verifyConsistency(size1, size2, want, root(size1), root(size2))).toBe(true);
    if (want.length === 0) return; // as in the source, only non-trivial proofs get the corruption probes
    for (const [desc, s1, s2, r1, r2, p] of consistencyProbes(size1, size2, root(size1), root(size2), want)) {
      expect([desc, verifyConsistency(s1, s2, p, r1, r2)]).toEqual([desc, false]);
    }
  });
});

describe('transparency-dev/merkle proof/verify_test.go edge cases', () => {
  const someHash = fromHex(verifyTest.someHash);
  const emptyTree = fromHex(verifyTest.emptyTreeHash);

  it('the table leaves and roots are the testonly constants', () => {
    expect(verifyTest.leaves).toEqual(constants.leafInputs);
    expect(verifyTest.roots).toEqual(constants.rootHashes.slice(1));
  });

  it.each(verifyTest.verifyInclusionBadProbes.probes)('TestVerifyInclusion probe index %d size %d fails', (index, size) => {
    expect(verifyInclusion(someHash, index, size, [], Buffer.alloc(0))).toBe(false);
    expect(verifyInclusion(Buffer.alloc(0), index, size, [], emptyTree)).toBe(false);
    expect(verifyInclusion(someHash, index, size, [], emptyTree)).toBe(false);
  });

  it.each(verifyTest.verifyInclusionSingleEntry.cases)('TestVerifyInclusionSingleEntry root=$root leaf=$leaf', ({ root, leaf, wantErr }) => {
    const pick = (which: 'hash' | 'empty') => (which === 'hash' ? leafHash('data') : Buffer.alloc(0));
    expect(verifyInclusion(pick(leaf), 0, 1, [], pick(root))).toBe(!wantErr);
  });

  it.each(verifyTest.verifyConsistencyEdgeCases.cases)(
    'TestVerifyConsistency $size1 -> $size2 ($root1, $root2, proof $proof)',
    ({ size1, size2, root1, root2, proof, wantErr, ours }) => {
      const named = (name: string) =>
        name === 'empty' ? emptyTree : Buffer.from(name === 'r1' ? "don't care 1" : "don't care 2");
      const path = proof === 'none' ? [] : [emptyTree];
      expect(verifyConsistency(size1, size2, path, named(root1), named(root2))).toBe(ours ?? !wantErr);
    },
  );

  it('the deviations above hold for real hashes: equal sizes need equal roots and an empty proof; fromSize 0 is refused', () => {
    expect(verifyConsistency(1, 1, [], someHash, someHash)).toBe(true);
    expect(verifyConsistency(3, 3, [], someHash, emptyTree)).toBe(false);
    expect(verifyConsistency(0, 0, [], emptyTree, emptyTree)).toBe(false);
    expect(verifyConsistency(0, 1, [], emptyTree, someHash)).toBe(false);
  });
});

describe('transparency-dev/merkle proof/proof_test.go node IDs', () => {
  const asSets = (entries: { level: number; index: number }[][] | [number, number][][]) =>
    entries.map((entry) =>
      entry
        .map((id) => (Array.isArray(id) ? `${id[0]}:${id[1]}` : nodeKey(id)))
        .sort()
        .join(' '),
    );

  it.each(nodeIds.inclusion)('inclusion of leaf $index in size $size', ({ index, size, proof }) => {
    expect(asSets(inclusionProofRanges(index, size).map(([s, e]) => rangeNodes(s, e)))).toEqual(asSets(proof));
  });

  it.each(nodeIds.consistency)('consistency from $size1 to $size2', ({ size1, size2, proof }) => {
    expect(asSets(consistencyProofRanges(size1, size2).map(([s, e]) => rangeNodes(s, e)))).toEqual(asSets(proof));
  });

  it.each(nodeIds.inclusionErrors)('inclusion of leaf %d in size %d is refused', (index, size) => {
    expect(() => inclusionProofRanges(index, size)).toThrow(RangeError);
  });

  it.each(nodeIds.consistencyErrors)('consistency from %d to %d is refused', (size1, size2) => {
    expect(() => consistencyProofRanges(size1, size2)).toThrow(RangeError);
  });
});
