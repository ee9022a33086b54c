import { readFileSync } from 'node:fs';
import { appendLeaves, emptyFrontier, leafHash, nodeKey, type NodeId, TreeBuilder } from '../src/index.js';

/** The published vectors, committed under test/vectors/ with their sources named in each file. */
export function vectors<T>(name: string): T & { source: string } {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as T & { source: string };
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A node store as a server would keep it: leaves at level 0 plus everything appendLeaves reported. */
export function storeFor(leaves: readonly Uint8Array[]): Map<string, Uint8Array> {
  const store = new Map<string, Uint8Array>();
  leaves.forEach((leaf, index) => store.set(nodeKey({ level: 0, index }), leaf));
  for (const node of appendLeaves(emptyFrontier(), leaves).nodes) store.set(nodeKey(node), node.hash);
  return store;
}

/** fetchNodes over a map, counting calls so tests can check proveWith makes exactly one. */
export function fetcher(store: Map<string, Uint8Array>) {
  const calls: NodeId[][] = [];
  const fetchNodes = async (ids: NodeId[]) => {
    calls.push(ids);
    const found = new Map<string, Uint8Array>();
    for (const id of ids) {
      const hash = store.get(nodeKey(id));
      if (hash) found.set(nodeKey(id), hash);
    }
    return found;
  };
  return { fetchNodes, calls };
}

/** Deterministic leaf hashes for property tests; a complete node of a prefix is the same node in the whole tree. */
export const LEAVES: Buffer[] = Array.from({ length: 4096 }, (_, i) => leafHash(`leaf ${i}`));
export const STORE = storeFor(LEAVES);

/**
 * ROOTS[size] is the root of LEAVES.slice(0, size), from one TreeBuilder pass (the properties check TreeBuilder
 * against merkleRoot separately), so proof properties need not rebuild roots on every run.
 */
export const ROOTS: Buffer[] = (() => {
  const builder = new TreeBuilder();
  const roots = [builder.root()];
  for (const leaf of LEAVES) {
    builder.push(leaf);
    roots.push(builder.root());
  }
  return roots;
})();

/** Copies with one bit flipped. */
export function flipBit(bytes: Uint8Array, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[Math.floor(bit / 8)] ^= 1 << bit % 8;
  return copy;
}
