import {
  appendLeaves,
  consistencyProofRanges,
  decodeFrontier,
  emptyFrontier,
  encodeFrontier,
  EMPTY_ROOT,
  fromHex,
  frontierRoot,
  hashNodes,
  HASH_SIZE,
  inclusionProof,
  inclusionProofRanges,
  leafHash,
  merkleRoot,
  consistencyProof,
  nodeHash,
  nodeKey,
  nodesForRanges,
  proveWith,
  rangeNodes,
  rootFromInclusionProof,
  rootNodes,
  toHex,
  TreeBuilder,
  verifyConsistency,
  verifyInclusion,
} from '../src/index.js';
import { fetcher, hex, LEAVES, STORE } from './helpers.js';

const MAX = Number.MAX_SAFE_INTEGER;
const ids = (...pairs: [number, number][]) => pairs.map(([level, index]) => ({ level, index }));

describe('hashes and hex', () => {
  it('EMPTY_ROOT is SHA-256 of the empty string; leaf and node hashes use the 0x00 / 0x01 prefixes', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(leafHash(''))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(toHex(leafHash('déjà vu'))).toBe(toHex(leafHash(Buffer.from('déjà vu', 'utf8'))));
    expect(nodeHash(LEAVES[0], LEAVES[1])).toHaveLength(HASH_SIZE);
    expect(toHex(nodeHash(LEAVES[0], LEAVES[1]))).not.toBe(toHex(nodeHash(LEAVES[1], LEAVES[0])));
  });

  it('nodeHash refuses anything but 32-byte hashes', () => {
    expect(() => nodeHash(Buffer.alloc(31), LEAVES[0])).toThrow(TypeError);
    expect(() => nodeHash(LEAVES[0], 'x' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('toHex is lower case; fromHex round-trips and refuses odd lengths and non-hex', () => {
    const bytes = new Uint8Array([0, 0xab, 0xff]);
    expect(toHex(bytes)).toBe('00abff');
    expect(toHex(new Uint8Array(bytes.buffer, 1, 2))).toBe('abff');
    expect([...fromHex('00abff')]).toEqual([...bytes]);
    expect([...fromHex('00ABFF')]).toEqual([...bytes]);
    expect(fromHex('')).toHaveLength(0);
    for (const bad of ['abc', 'zz', '0g', ' 00', '00 ', '0x00', 'é0']) expect(() => fromHex(bad)).toThrow(TypeError);
  });
});

describe('rangeNodes, rootNodes, hashNodes', () => {
  it('decomposes by binary digits, largest first', () => {
    expect(rootNodes(0)).toEqual([]);
    expect(rootNodes(1)).toEqual(ids([0, 0]));
    expect(rootNodes(7)).toEqual(ids([2, 0], [1, 2], [0, 6]));
    expect(rangeNodes(4, 7)).toEqual(ids([1, 2], [0, 6]));
    expect(rangeNodes(8, 13)).toEqual(ids([2, 2], [0, 12]));
    expect(rangeNodes(6, 8)).toEqual(ids([1, 3]));
    expect(rootNodes(2 ** 32 + 1)).toEqual(ids([32, 0], [0, 2 ** 32]));
    const top = rootNodes(MAX);
    expect(top).toHaveLength(53);
    expect(top[0]).toEqual({ level: 52, index: 0 });
    expect(top[52]).toEqual({ level: 0, index: MAX - 1 });
    expect(rangeNodes(2 ** 52, MAX)).toHaveLength(52);
  });

  it('refuses ranges that are not RFC 9162 subtrees, with the reason', () => {
    expect(() => rangeNodes(2, 5)).toThrow(/multiple of 4/);
    expect(() => rangeNodes(1, 3)).toThrow(RangeError);
    expect(() => rangeNodes(5, 5)).toThrow(/empty/);
    expect(() => rangeNodes(3, 2)).toThrow(RangeError);
    expect(() => rangeNodes(-1, 2)).toThrow(RangeError);
    expect(() => rangeNodes(0.5, 2)).toThrow(RangeError);
    expect(() => rangeNodes(0, 2 ** 53)).toThrow(RangeError);
    expect(() => rootNodes(Number.NaN)).toThrow(RangeError);
  });

  it('hashNodes folds from the right; no nodes is the empty root', () => {
    const [a, b, c] = LEAVES;
    expect(hex(hashNodes([a, b, c]))).toBe(hex(nodeHash(a, nodeHash(b, c))));
    expect(hex(hashNodes([a]))).toBe(hex(a));
    expect(hashNodes([a])).not.toBe(a);
    expect(hex(hashNodes([]))).toBe(hex(EMPTY_ROOT));
    expect(() => hashNodes([a, Buffer.alloc(3)])).toThrow(TypeError);
  });

  it('nodesForRanges lists each node once', () => {
    expect(nodesForRanges([[0, 2], [0, 2], [2, 3], [0, 4]])).toEqual(ids([1, 0], [0, 2], [2, 0]));
    expect(nodeKey({ level: 3, index: 12 })).toBe('3:12');
  });
});

describe('proof ranges', () => {
  it('inclusion: sibling nearest the leaf first', () => {
    expect(inclusionProofRanges(0, 1)).toEqual([]);
    expect(inclusionProofRanges(2, 7)).toEqual([[3, 4], [0, 2], [4, 7]]);
    expect(inclusionProofRanges(6, 7)).toEqual([[4, 6], [0, 4]]);
  });

  it('consistency: the RFC SUBPROOF order, empty for equal sizes', () => {
    expect(consistencyProofRanges(3, 7)).toEqual([[2, 3], [3, 4], [0, 2], [4, 7]]);
    expect(consistencyProofRanges(4, 8)).toEqual([[4, 8]]);
    expect(consistencyProofRanges(6, 8)).toEqual([[4, 6], [6, 8], [0, 4]]);
    expect(consistencyProofRanges(5, 5)).toEqual([]);
  });

  it('refuse what the RFC does not define, with a RangeError that says why', () => {
    expect(() => inclusionProofRanges(0, 0)).toThrow(/empty tree/);
    expect(() => inclusionProofRanges(7, 7)).toThrow(/not in a tree of size 7/);
    expect(() => inclusionProofRanges(-1, 7)).toThrow(RangeError);
    expect(() => inclusionProofRanges(1, 2.5)).toThrow(RangeError);
    expect(() => consistencyProofRanges(0, 5)).toThrow(/at least 1/);
    expect(() => consistencyProofRanges(0, 0)).toThrow(RangeError);
    expect(() => consistencyProofRanges(6, 5)).toThrow(/larger than toSize/);
    expect(() => consistencyProofRanges(1, MAX + 1)).toThrow(RangeError);
    expect(() => inclusionProof(3, LEAVES.slice(0, 3))).toThrow(RangeError);
    expect(() => consistencyProof(0, LEAVES.slice(0, 3))).toThrow(RangeError);
    expect(() => consistencyProof(4, LEAVES.slice(0, 3))).toThrow(RangeError);
    expect(() => merkleRoot([Buffer.alloc(31)])).toThrow(TypeError);
  });

  it('work at the top of the safe-integer range', () => {
    expect(inclusionProofRanges(MAX - 1, MAX)).toHaveLength(52);
    expect(inclusionProofRanges(0, MAX)).toHaveLength(53);
    expect(consistencyProofRanges(2 ** 52, MAX)).toEqual([[2 ** 52, MAX]]);
    expect(consistencyProofRanges(MAX - 1, MAX)).toHaveLength(53);
  });
});

describe('proveWith', () => {
  it('makes one fetch call with each needed node once', async () => {
    const { fetchNodes, calls } = fetcher(STORE);
    const ranges = [...inclusionProofRanges(5, 13), ...consistencyProofRanges(6, 13)];
    const proof = await proveWith(ranges, fetchNodes);
    expect(calls).toHaveLength(1);
    expect(new Set(calls[0].map(nodeKey)).size).toBe(calls[0].length);
    const leaves = LEAVES.slice(0, 13);
    expect(proof.map(hex)).toEqual([...inclusionProof(5, leaves), ...consistencyProof(6, leaves)].map(hex));
  });

  it('makes no call when no node is needed, and fails loudly on a missing node', async () => {
    const { fetchNodes, calls } = fetcher(STORE);
    expect(await proveWith([], fetchNodes)).toEqual([]);
    expect(calls).toHaveLength(0);
    await expect(proveWith([[0, 4]], async () => new Map())).rejects.toThrow(/2:0/);
  });
});

describe('frontier', () => {
  it('appendLeaves leaves its input alone and accepts no leaves', () => {
    const start = appendLeaves(emptyFrontier(), LEAVES.slice(0, 3)).frontier;
    const before = start.hashes.map(hex);
    const { frontier, nodes } = appendLeaves(start, [LEAVES[3]]);
    expect(start.size).toBe(3);
    expect(start.hashes.map(hex)).toEqual(before);
    expect(frontier.size).toBe(4);
    expect(nodes.map(({ level, index }) => ({ level, index }))).toEqual(ids([1, 1], [2, 0]));
    expect(appendLeaves(frontier, [])).toEqual({ frontier, nodes: [] });
  });

  it('frontierRoot of the empty tree is EMPTY_ROOT', () => {
    expect(hex(frontierRoot(emptyFrontier()))).toBe(hex(EMPTY_ROOT));
  });

  it('refuses frontiers whose hash count is not popcount(size), and bad hashes', () => {
    const h = LEAVES[0];
    expect(() => appendLeaves({ size: 3, hashes: [h] }, [])).toThrow(/must hold 2 hashes/);
    expect(() => frontierRoot({ size: 0, hashes: [h] })).toThrow(RangeError);
    expect(() => appendLeaves({ size: 1, hashes: [Buffer.alloc(2)] }, [])).toThrow(TypeError);
    expect(() => appendLeaves(emptyFrontier(), [Buffer.alloc(33)])).toThrow(TypeError);
    expect(() => appendLeaves({ size: -1, hashes: [] }, [])).toThrow(RangeError);
    expect(() => new TreeBuilder({ size: 2, hashes: [] })).toThrow(RangeError);
  });

  it('encodes as concatenated hashes and decodes only the right length', () => {
    const frontier = appendLeaves(emptyFrontier(), LEAVES.slice(0, 7)).frontier;
    const bytes = encodeFrontier(frontier);
    expect(bytes).toHaveLength(3 * HASH_SIZE);
    expect(hex(bytes)).toBe(frontier.hashes.map(hex).join(''));
    expect(decodeFrontier(7, bytes)).toEqual(frontier);
    expect(encodeFrontier(emptyFrontier())).toHaveLength(0);
    expect(decodeFrontier(0, new Uint8Array(0))).toEqual(emptyFrontier());
    expect(() => decodeFrontier(8, bytes)).toThrow(/32 bytes, got 96/);
    expect(() => decodeFrontier(7, bytes.subarray(1))).toThrow(RangeError);
    expect(() => decodeFrontier(1.5, bytes)).toThrow(RangeError);
  });
});

describe('TreeBuilder', () => {
  it('reports nothing for even sizes and the completed nodes, lowest first, otherwise', () => {
    const builder = new TreeBuilder();
    expect(builder.root()).toEqual(EMPTY_ROOT);
    expect(builder.push(LEAVES[0])).toEqual([]);
    expect(builder.push(LEAVES[1]).map(({ level, index }) => ({ level, index }))).toEqual(ids([1, 0]));
    expect(builder.push(LEAVES[2])).toEqual([]);
    expect(builder.push(LEAVES[3]).map(({ level, index }) => ({ level, index }))).toEqual(ids([1, 1], [2, 0]));
    expect(() => builder.push(Buffer.alloc(1))).toThrow(TypeError);
    expect(builder.size).toBe(4);
  });

  it('copies the leaves it keeps, so a reused input buffer cannot corrupt the tree', () => {
    const buffer = Buffer.from(LEAVES[0]);
    const builder = new TreeBuilder();
    builder.push(buffer);
    buffer.fill(0);
    expect(hex(builder.root())).toBe(hex(LEAVES[0]));
  });

  it('rebuilds 2^16 + 3 leaves to the same root as the other paths', () => {
    const builder = new TreeBuilder();
    let reported = 0;
    const leaves: Buffer[] = [];
    for (let i = 0; i < 2 ** 16 + 3; i++) {
      const leaf = i < LEAVES.length ? LEAVES[i] : leafHash(`leaf ${i}`);
      leaves.push(leaf);
      reported += builder.push(leaf).length;
    }
    expect(reported).toBe(2 ** 16 - 1 + 1); // the perfect 2^16 tree's inner nodes, plus the pair [2^16, 2^16 + 2)
    expect(hex(builder.root())).toBe(hex(frontierRoot(appendLeaves(emptyFrontier(), leaves).frontier)));
    expect(hex(builder.root())).toBe(hex(merkleRoot(leaves)));
  });
});

describe('verifiers on malformed input', () => {
  const leaves = LEAVES.slice(0, 6);
  const root = merkleRoot(leaves);
  const proof = inclusionProof(2, leaves);

  it('return false rather than throw', () => {
    expect(verifyInclusion(leaves[2], 2, 6, proof, root)).toBe(true);
    expect(verifyInclusion(leaves[2], 2, 6, [...proof.slice(0, -1), Buffer.alloc(31)], root)).toBe(false);
    expect(verifyInclusion(leaves[2], 6, 6, proof, root)).toBe(false);
    expect(verifyInclusion(leaves[2], 2, 6, null as unknown as Uint8Array[], root)).toBe(false);
    expect(verifyInclusion(leaves[2], 2, 6, proof, root.subarray(1))).toBe(false);
    expect(verifyInclusion(leaves[2], 2n as unknown as number, 6, proof, root)).toBe(false);
    expect(rootFromInclusionProof(leaves[2], 2, 6, proof.slice(1))).toBeNull();
    const consistency = consistencyProof(3, leaves);
    const old = merkleRoot(leaves.slice(0, 3));
    expect(verifyConsistency(3, 6, consistency, old, root)).toBe(true);
    expect(verifyConsistency(3, 6, [...consistency, 'x' as unknown as Uint8Array], old, root)).toBe(false);
    expect(verifyConsistency(3, Infinity, consistency, old, root)).toBe(false);
    expect(verifyConsistency(6, 3, consistency, old, root)).toBe(false);
  });
});
