import { fail, RefusalError } from '../refusal.js';
import {
  decodeBase58,
  decodeBase58Check,
  decodeCashaddr,
  decodeMonero,
  decodeSegwit,
  eip55Valid,
  encodeBase58,
  encodeBase58Check,
  encodeCashaddr,
  encodeMonero,
  hasMixedCase,
} from './codecs.js';

/** The wallet networks of SPEC 3; `ethereum` stands for every EVM chain. */
export const WALLET_NETWORKS = ['bitcoin', 'ethereum', 'tron', 'litecoin', 'bitcoin-cash', 'monero', 'solana'] as const;
export type WalletNetwork = (typeof WALLET_NETWORKS)[number];

/** EVM chains whose addresses are the same keys as Ethereum's (canonical network `ethereum`). */
export const EVM_ALIASES = [
  'polygon',
  'bsc',
  'arbitrum',
  'optimism',
  'base',
  'avalanche',
  'fantom',
  'gnosis',
  'linea',
  'zksync',
  'scroll',
  'celo',
  'cronos',
  'mantle',
  'blast',
] as const;

/**
 * The tickers people write for the networks (case-insensitive). Each is the network itself, not
 * another chain: `eth` is ethereum (no EVM alias is reported), `btc` bitcoin.
 */
export const NETWORK_ALIASES: Readonly<Record<string, WalletNetwork>> = Object.freeze({
  btc: 'bitcoin',
  eth: 'ethereum',
  ltc: 'litecoin',
  bch: 'bitcoin-cash',
  xmr: 'monero',
  sol: 'solana',
  trx: 'tron',
});

export interface WalletAddress {
  network: WalletNetwork;
  canonical: string;
  /** p2pkh, p2sh, p2wpkh, p2wsh, p2tr, segwit-v<N>, cashaddr-p2pkh, eoa-or-contract, standard, subaddress, integrated … */
  format: string;
  /** The network the caller named, when it was an EVM alias (screening reports EVM_ADDRESS). */
  evmAlias?: string;
  /**
   * Monero integrated address: the standard address of the same wallet (its spend and view
   * keys without the payment id), which screening also matches (STANDARD_ADDRESS).
   */
  standard?: string;
}

type Parser = (value: string) => WalletAddress;

function segwitFormat(version: number, length: number): string {
  if (version === 0) return length === 20 ? 'p2wpkh' : 'p2wsh';
  if (version === 1 && length === 32) return 'p2tr';
  return `segwit-v${version}`;
}

function bitcoin(value: string): WalletAddress {
  if (/^(bc|tb|bcrt)1/i.test(value)) {
    const s = decodeSegwit(value, 'bc', ['tb', 'bcrt'], 'bitcoin');
    return { network: 'bitcoin', canonical: s.canonical, format: segwitFormat(s.version, s.program.length) };
  }
  const { version, payload } = decodeBase58Check(value, 'bitcoin address');
  if (payload.length !== 20) fail('BAD_LENGTH', `bitcoin address: a base58 address holds a 20-byte hash, not ${payload.length} bytes`);
  if (version === 0x00) return { network: 'bitcoin', canonical: value, format: 'p2pkh' };
  if (version === 0x05) return { network: 'bitcoin', canonical: value, format: 'p2sh' };
  if (version === 0x6f || version === 0xc4) fail('TESTNET_ADDRESS', 'bitcoin address: a testnet/regtest address (m…, n…, 2…), not bitcoin mainnet');
  fail('UNKNOWN_VERSION', `bitcoin address: version byte 0x${version.toString(16).padStart(2, '0')} is not a bitcoin mainnet address`);
}

function litecoin(value: string): WalletAddress {
  if (/^(ltc|tltc|rltc)1/i.test(value)) {
    const s = decodeSegwit(value, 'ltc', ['tltc', 'rltc'], 'litecoin');
    return { network: 'litecoin', canonical: s.canonical, format: segwitFormat(s.version, s.program.length) };
  }
  const { version, payload } = decodeBase58Check(value, 'litecoin address');
  if (payload.length !== 20) fail('BAD_LENGTH', `litecoin address: a base58 address holds a 20-byte hash, not ${payload.length} bytes`);
  if (version === 0x30) return { network: 'litecoin', canonical: value, format: 'p2pkh' };
  if (version === 0x32) return { network: 'litecoin', canonical: value, format: 'p2sh' };
  // Legacy 3… and M… carry the same script hash: one key, the current M… form.
  if (version === 0x05) return { network: 'litecoin', canonical: encodeBase58Check(0x32, payload), format: 'p2sh' };
  if (version === 0x6f || version === 0x3a || version === 0xc4) fail('TESTNET_ADDRESS', 'litecoin address: a testnet address, not litecoin mainnet');
  fail('UNKNOWN_VERSION', `litecoin address: version byte 0x${version.toString(16).padStart(2, '0')} is not a litecoin mainnet address`);
}

function bitcoinCash(value: string): WalletAddress {
  const legacy = /^[1-9A-HJ-NP-Za-km-z]{25,35}$/.test(value);
  if (legacy) {
    // A legacy base58 address given for bitcoin-cash is the same key as its cashaddr.
    const { version, payload } = decodeBase58Check(value, 'bitcoin-cash legacy address');
    if (payload.length !== 20) fail('BAD_LENGTH', 'bitcoin-cash legacy address: must hold a 20-byte hash');
    if (version === 0x6f || version === 0xc4) fail('TESTNET_ADDRESS', 'bitcoin-cash legacy address: a testnet address (m…, n…, 2…), not mainnet');
    if (version !== 0x00 && version !== 0x05) fail('UNKNOWN_VERSION', 'bitcoin-cash legacy address: unknown version byte');
    const type = version === 0x00 ? 'P2PKH' : 'P2SH';
    return { network: 'bitcoin-cash', canonical: encodeCashaddr(type, payload), format: `cashaddr-${type.toLowerCase()}` };
  }
  const { type, canonical } = decodeCashaddr(value);
  return { network: 'bitcoin-cash', canonical, format: `cashaddr-${type.toLowerCase()}` };
}

function ethereum(value: string): WalletAddress {
  if (!/^0x/.test(value)) fail('UNKNOWN_PREFIX', 'ethereum address: must start with "0x"');
  const hex = value.slice(2);
  if (!/^[0-9a-fA-F]*$/.test(hex)) fail('INVALID_CHARACTERS', 'ethereum address: only hexadecimal digits may follow "0x"');
  if (hex.length !== 40) fail('BAD_LENGTH', `ethereum address: 40 hex digits after "0x", not ${hex.length}`);
  if (hasMixedCase(hex) && !eip55Valid(hex)) {
    fail('BAD_CHECKSUM', 'ethereum address: the mixed-case EIP-55 checksum does not match (a mistyped character?)');
  }
  return { network: 'ethereum', canonical: `0x${hex.toLowerCase()}`, format: 'account' };
}

function tron(value: string): WalletAddress {
  const { version, payload } = decodeBase58Check(value, 'tron address');
  if (version !== 0x41) fail('UNKNOWN_VERSION', `tron address: version byte must be 0x41 (addresses start with T)`);
  if (payload.length !== 20) fail('BAD_LENGTH', `tron address: must hold 20 bytes after the version byte, not ${payload.length}`);
  return { network: 'tron', canonical: value, format: 'account' };
}

const MONERO_NETBYTES: Record<number, string> = { 18: 'standard', 42: 'subaddress', 19: 'integrated' };
const MONERO_TEST_NETBYTES = new Set([53, 54, 63, 24, 25, 36]);

function monero(value: string): WalletAddress {
  const bytes = decodeMonero(value);
  const netbyte = bytes[0];
  if (MONERO_TEST_NETBYTES.has(netbyte)) fail('TESTNET_ADDRESS', 'monero address: a testnet/stagenet address, not monero mainnet');
  const format = MONERO_NETBYTES[netbyte];
  if (!format) fail('UNKNOWN_VERSION', `monero address: network byte ${netbyte} is not a mainnet address type`);
  const expected = format === 'integrated' ? 77 : 69;
  if (bytes.length !== expected) fail('BAD_LENGTH', `monero address: a ${format} address decodes to ${expected} bytes, not ${bytes.length}`);
  if (format === 'integrated') {
    // net byte, public spend key (32), public view key (32), payment id (8), checksum (4)
    const standard = new Uint8Array(65);
    standard[0] = 18;
    standard.set(bytes.subarray(1, 65), 1);
    return { network: 'monero', canonical: value, format, standard: encodeMonero(standard) };
  }
  return { network: 'monero', canonical: value, format };
}

function solana(value: string): WalletAddress {
  if (value.length < 32 || value.length > 44) fail('BAD_LENGTH', `solana address: 32 to 44 base58 characters, not ${value.length}`);
  const bytes = decodeBase58(value, 'solana address');
  if (bytes.length !== 32) fail('BAD_LENGTH', `solana address: must decode to 32 bytes, not ${bytes.length}`);
  if (encodeBase58(bytes) !== value) fail('UNRECOGNISED_FORMAT', 'solana address: not in canonical base58 form');
  return { network: 'solana', canonical: value, format: 'account' };
}

const PARSERS: Record<WalletNetwork, Parser> = {
  bitcoin,
  ethereum,
  tron,
  litecoin,
  'bitcoin-cash': bitcoinCash,
  monero,
  solana,
};

/** The networks a value might belong to by its shape alone, most specific first. */
function guesses(value: string): WalletNetwork[] {
  if (/^0x/i.test(value)) return ['ethereum'];
  // bech32-shaped only when single-case and in the bech32 alphabet: a solana key may start with bc1.
  const bech32ish = !hasMixedCase(value) && /^[a-z0-9]+1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]+$/i.test(value);
  if (bech32ish && /^(bc|tb|bcrt)1/i.test(value)) return ['bitcoin'];
  if (bech32ish && /^(ltc|tltc|rltc)1/i.test(value)) return ['litecoin'];
  if (/^(bitcoincash|bchtest|bchreg):/i.test(value) || (/^[qp][02-9ac-hj-np-z]+$/i.test(value) && (value.length === 42 || value.length === 61))) {
    return ['bitcoin-cash'];
  }
  const shaped: WalletNetwork[] = [];
  if (/^[13mn2]/.test(value) && value.length >= 25 && value.length <= 35) shaped.push('bitcoin');
  if (/^[LMQ]/.test(value) && value.length >= 25 && value.length <= 35) shaped.push('litecoin');
  if (/^T/.test(value) && value.length === 34) shaped.push('tron');
  if (value.length === 95 || value.length === 106) shaped.push('monero');
  if (value.length >= 32 && value.length <= 44) shaped.push('solana');
  return shaped;
}

function attempt(network: WalletNetwork, value: string): WalletAddress | RefusalError {
  try {
    return PARSERS[network](value);
  } catch (err) {
    if (err instanceof RefusalError) return err;
    throw err;
  }
}

/**
 * Detects the network from the format (SPEC 3). Legacy base58 `1…`/`3…` is bitcoin (never
 * litecoin's legacy 3… or a bitcoin-cash legacy address); a value valid on several networks is
 * refused with the candidates named; otherwise the refusal of the likeliest network is given.
 */
function detect(value: string): WalletAddress {
  const shaped = guesses(value);
  const fits: WalletAddress[] = [];
  for (const network of shaped) {
    // A solana key decodes to 32 bytes, every base58check address here to 25: once one of those
    // fits, solana cannot, so the (costly) attempt is skipped.
    if (network === 'solana' && fits.length > 0) continue;
    const result = attempt(network, value);
    if (!(result instanceof RefusalError)) fits.push(result);
  }
  const distinct = [...new Map(fits.map((f) => [f.network, f])).values()];
  if (distinct.length === 1) return distinct[0];
  if (distinct.length > 1) {
    const names = distinct.map((d) => d.network);
    fail('AMBIGUOUS_NETWORK', `value is a valid address on several networks (${names.join(', ')}); give the network`, 'value', names);
  }
  if (shaped.length === 0) {
    fail('UNRECOGNISED_FORMAT', `not an address of any supported network (${WALLET_NETWORKS.join(', ')}); give the network to learn why`);
  }
  throw attempt(shaped[0], value) as RefusalError;
}

/**
 * The canonical network a name stands for — a network name, its ticker (`btc`, NETWORK_ALIASES)
 * or an EVM chain (`polygon` → ethereum), any case — or undefined for anything else.
 */
export function canonicalNetwork(input: string): { network: WalletNetwork; evmAlias?: string } | undefined {
  const name = input.trim().toLowerCase();
  if ((WALLET_NETWORKS as readonly string[]).includes(name)) return { network: name as WalletNetwork };
  if (Object.hasOwn(NETWORK_ALIASES, name)) return { network: NETWORK_ALIASES[name] };
  if ((EVM_ALIASES as readonly string[]).includes(name)) return { network: 'ethereum', evmAlias: name };
  return undefined;
}

/** Resolves a network name, ticker or EVM alias to its canonical network; refuses anything else. */
export function walletNetwork(input: string): { network: WalletNetwork; evmAlias?: string } {
  const resolved = canonicalNetwork(input);
  if (resolved) return resolved;
  const tickers = Object.entries(NETWORK_ALIASES).map(([ticker, network]) => `${ticker} for ${network}`);
  fail(
    'UNSUPPORTED_NETWORK',
    `"${input.slice(0, 32)}" is not a supported network (${WALLET_NETWORKS.join(', ')}; ${tickers.join(', ')}; or an EVM chain: ${EVM_ALIASES.join(', ')})`,
    'network',
  );
}

export function parseWallet(value: string, network?: string): WalletAddress {
  if (network === undefined) return detect(value);
  const { network: resolved, evmAlias } = walletNetwork(network);
  const result = attempt(resolved, value);
  if (!(result instanceof RefusalError)) return evmAlias ? { ...result, evmAlias } : result;
  // Say so when the value is fine, just on another network — unless it was recognised as this
  // network's format and failed its checks (mixed case, checksum, testnet): that reason is better.
  if (['MIXED_CASE', 'BAD_CHECKSUM', 'TESTNET_ADDRESS'].includes(result.refusal.code)) throw result;
  let elsewhere: WalletAddress | undefined;
  try {
    elsewhere = detect(value);
  } catch {
    elsewhere = undefined;
  }
  if (elsewhere && elsewhere.network !== resolved) {
    fail('NETWORK_MISMATCH', `value is a valid ${elsewhere.network} address, not a ${resolved} address`, 'network', [elsewhere.network]);
  }
  throw result;
}
