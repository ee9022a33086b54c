export * from './parse.js';
export type { Refusal, RefusalCode } from './refusal.js';
export type { Domain } from './domain.js';
export type { MerchantId, MerchantIdInput } from './merchant.js';
export { WALLET_NETWORKS, EVM_ALIASES, NETWORK_ALIASES, canonicalNetwork, type WalletNetwork } from './wallet/networks.js';
export { useSha256, sha256Hex, type Sha256Hex } from './hash.js';
