import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base58, base58xmr, bech32, bech32m, createBase58check } from '@scure/base';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { encodeCashAddress } from 'ecashaddrjs';
import { parse, useSha256 } from '@app/canonical';

/**
 * `npm run bench canonical`: canonicalise + fingerprint throughput per kind on generated values,
 * against the baseline of hashing the same strings with SHA-256 alone, measured in the same run.
 */
const N = Number(process.env.BENCH_N ?? 1_000_000);
const nodeSha256 = (s: string) => createHash('sha256').update(s).digest('hex');
useSha256(nodeSha256);

let seed = 42;
function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out[i] = seed & 0xff;
  }
  return out;
}
const b58check = createBase58check(sha256);
const withVersion = (v: number, p: Uint8Array) => b58check.encode(Uint8Array.from([v, ...p]));
function eip55(hex: string): string {
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(hex)));
  return [...hex].map((c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c)).join('');
}
function monero(netbyte: number, keys: Uint8Array): string {
  const body = Uint8Array.from([netbyte, ...keys]);
  return base58xmr.encode(Uint8Array.from([...body, ...keccak_256(body).subarray(0, 4)]));
}

const WALLETS: Record<string, () => string> = {
  'bitcoin p2pkh': () => withVersion(0, random(20)),
  'bitcoin p2wpkh': () => bech32.encode('bc', [0, ...bech32.toWords(random(20))]),
  'bitcoin p2tr': () => bech32m.encode('bc', [1, ...bech32m.toWords(random(32))]),
  ethereum: () => `0x${eip55(bytesToHex(random(20)))}`,
  tron: () => withVersion(0x41, random(20)),
  litecoin: () => withVersion(0x30, random(20)),
  'bitcoin-cash': () => encodeCashAddress('bitcoincash', 'p2pkh', random(20)),
  monero: () => monero(18, random(64)),
  solana: () => base58.encode(random(32)),
};

const word = () => bytesToHex(random(4));
const OTHERS: Record<string, [string, () => unknown]> = {
  MERCHANT_ID: ['MERCHANT_ID', () => `Acquirer ${word()}:MID-${word()}`],
  DOMAIN: ['DOMAIN', () => `Shop-${word()}.Example-${word()}.com`],
  URL: ['URL', () => `HTTPS://Shop-${word()}.example.com:443/p/${word()}?q=${word()}#f`],
};

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function measure(label: string, kind: string, values: unknown[], network?: string) {
  const strings = values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  let refused = 0;
  const parseSeconds = time(() => {
    for (const v of values) if (!parse(kind, v, network).ok) refused++;
  });
  const hashSeconds = time(() => {
    for (const s of strings) nodeSha256(`${kind}||${s}`);
  });
  if (refused > 0) throw new Error(`${label}: ${refused} generated values were refused`);
  return {
    label,
    values: values.length,
    perSecond: Math.round(values.length / parseSeconds),
    sha256PerSecond: Math.round(values.length / hashSeconds),
    ratio: parseSeconds / hashSeconds,
  };
}

export function runCanonicalBench(): void {
  const rows = [];
  const perNetwork = Math.ceil(N / Object.keys(WALLETS).length);
  const mixed: [string, string][] = [];
  for (const [name, make] of Object.entries(WALLETS)) {
    const values = Array.from({ length: perNetwork }, make);
    const network = name.split(' ')[0];
    rows.push(measure(`WALLET_ADDRESS ${name}`, 'WALLET_ADDRESS', values, network));
    for (const v of values) mixed.push([v, network]);
  }
  {
    const values = mixed.map(([v]) => v);
    const detected = measure('WALLET_ADDRESS (mixed, network detected)', 'WALLET_ADDRESS', values);
    rows.push(detected);
  }
  for (const [label, [kind, make]] of Object.entries(OTHERS)) {
    rows.push(measure(label, kind, Array.from({ length: N }, make)));
  }
  process.stdout.write(`\ncanonicalise + fingerprint (${N.toLocaleString()} values per kind; baseline: SHA-256 hex of the same strings, same run)\n`);
  process.stdout.write('kind'.padEnd(44) + 'values'.padStart(10) + 'per s'.padStart(12) + 'sha256/s'.padStart(12) + 'ratio'.padStart(8) + '\n');
  for (const r of rows) {
    process.stdout.write(
      r.label.padEnd(44) +
        String(r.values).padStart(10) +
        String(r.perSecond).padStart(12) +
        String(r.sha256PerSecond).padStart(12) +
        r.ratio.toFixed(1).padStart(8) +
        '\n',
    );
  }
}
