export { HASH_SIZE, EMPTY_ROOT, leafHash, nodeHash, toHex, fromHex } from './hash.js';
export { type NodeId, type StoredNode, type LeafRange, nodeKey, rangeNodes, rootNodes, hashNodes, nodesForRanges } from './nodes.js';
export { type FetchNodes, inclusionProofRanges, consistencyProofRanges, proveWith } from './proofs.js';
export { merkleRoot, inclusionProof, consistencyProof } from './memory.js';
export { type Frontier, emptyFrontier, appendLeaves, frontierRoot, encodeFrontier, decodeFrontier, TreeBuilder } from './frontier.js';
export { rootFromInclusionProof, verifyInclusion, verifyConsistency } from './verify.js';
