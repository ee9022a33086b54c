/**
 * A compact set of fingerprints by their first 8 bytes (issue 19): the listed fingerprints an API
 * process keeps in memory so that a screened key not in it is known to match nothing, without
 * asking the database. It answers "maybe" or "no": a "maybe" (the key, or another with the same
 * 64-bit prefix — about n / 2^64 of the time) goes to the set-based SQL query that decides; a "no"
 * is certain. Nothing is ever removed (a revoked fingerprint left in the set only costs a query),
 * so the set only has to grow with the change feed to stay a superset of what is listed.
 *
 * Layout: a sorted BigUint64Array of prefixes (8 bytes each: 80 MB at 10 million), read through a
 * Uint32Array view for lookups without BigInt arithmetic, plus a small sorted buffer of keys added
 * since, merged in once it grows past an eighth of the base. Framework-free; runs in a browser.
 */
const HEX16 = /^[0-9a-f]{16}/;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The 64-bit prefix of a lower-case hex fingerprint as its two 32-bit halves, or null for anything else. */
export function prefixHalves(fingerprint: string): [hi: number, lo: number] | null {
  if (!HEX16.test(fingerprint)) return null;
  return [parseInt(fingerprint.slice(0, 8), 16), parseInt(fingerprint.slice(8, 16), 16)];
}

function prefixBigInt(fingerprint: string): bigint {
  const halves = prefixHalves(fingerprint);
  if (!halves) throw new TypeError('a fingerprint is lower-case hex, at least 16 digits');
  return (BigInt(halves[0]) << 32n) | BigInt(halves[1]);
}

/** Binary search of a sorted BigUint64Array through its 32-bit view ([lo, hi] per element on little-endian hosts). */
function contains(words: Uint32Array, count: number, hi: number, lo: number): boolean {
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const mhi = words[2 * mid + 1];
    const mlo = words[2 * mid];
    if (mhi < hi || (mhi === hi && mlo < lo)) low = mid + 1;
    else if (mhi > hi || mlo > lo) high = mid - 1;
    else return true;
  }
  return false;
}

function sortedUnique(values: BigUint64Array): BigUint64Array {
  values.sort();
  let n = 0;
  for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[n - 1]) values[n++] = values[i];
  return n === values.length ? values : values.slice(0, n);
}

export class PrefixSet {
  private base: BigUint64Array;
  private baseWords: Uint32Array;
  /** Keys added since the base was built: sorted, merged into the base when it grows. */
  private recent = new BigUint64Array(16);
  private recentCount = 0;
  private recentWords = new Uint32Array(this.recent.buffer);

  private constructor(base: BigUint64Array) {
    if (!LITTLE_ENDIAN) throw new Error('PrefixSet needs a little-endian host');
    this.base = base;
    this.baseWords = new Uint32Array(base.buffer, base.byteOffset, base.length * 2);
  }

  /** A set of these fingerprints (any order, repeats allowed). */
  static of(fingerprints: Iterable<string>): PrefixSet {
    const list: bigint[] = [];
    for (const f of fingerprints) list.push(prefixBigInt(f));
    return new PrefixSet(sortedUnique(BigUint64Array.from(list)));
  }

  /**
   * A set built from prefixes already packed (e.g. streamed from the database page by page). With
   * `{ owned: true }` the array itself becomes the set (sorted and de-duplicated in place, no
   * copy: at 10 million prefixes that saves 80 MB at build time); the caller must not touch it again.
   */
  static fromPrefixes(prefixes: BigUint64Array, options: { owned?: boolean } = {}): PrefixSet {
    return new PrefixSet(sortedUnique(options.owned ? prefixes : prefixes.slice()));
  }

  /**
   * Packs big-endian 8-byte prefixes (as PostgreSQL's `decode(substr(fingerprint, 1, 16), 'hex')`
   * gives them) into `into` from element `at`; returns how many were written.
   */
  static pack(bigEndian: Uint8Array, into: BigUint64Array, at: number): number {
    const n = Math.floor(bigEndian.length / 8);
    const bytes = new Uint8Array(into.buffer, into.byteOffset + at * 8, n * 8);
    bytes.set(bigEndian.subarray(0, n * 8));
    // Each 8-byte group reversed: big-endian to the host's little-endian order.
    for (let i = 0; i < n * 8; i += 8) {
      let a = i;
      let b = i + 7;
      while (a < b) {
        const t = bytes[a];
        bytes[a++] = bytes[b];
        bytes[b--] = t;
      }
    }
    return n;
  }

  /** The number of distinct prefixes held. */
  get size(): number {
    return this.base.length + this.recentCount;
  }

  /** Bytes of memory the set holds. */
  get bytes(): number {
    return this.base.byteLength + this.recent.byteLength;
  }

  /** False only when no fingerprint with this one's first 8 bytes was ever added. */
  mayContain(fingerprint: string): boolean {
    const halves = prefixHalves(fingerprint);
    if (!halves) return false;
    return contains(this.baseWords, this.base.length, halves[0], halves[1]) || contains(this.recentWords, this.recentCount, halves[0], halves[1]);
  }

  add(fingerprint: string): void {
    const halves = prefixHalves(fingerprint);
    if (!halves) throw new TypeError('a fingerprint is lower-case hex, at least 16 digits');
    const [hi, lo] = halves;
    if (contains(this.baseWords, this.base.length, hi, lo) || contains(this.recentWords, this.recentCount, hi, lo)) return;
    this.insert((BigInt(hi) << 32n) | BigInt(lo));
  }

  /** Inserts a prefix known to be absent into the sorted recent buffer. */
  private insert(value: bigint): void {
    if (this.recentCount === this.recent.length) {
      const grown = new BigUint64Array(this.recent.length * 2);
      grown.set(this.recent);
      this.recent = grown;
      this.recentWords = new Uint32Array(grown.buffer);
    }
    // Insertion into the sorted buffer (it stays small: merged past an eighth of the base).
    let i = this.recentCount;
    while (i > 0 && this.recent[i - 1] > value) {
      this.recent[i] = this.recent[i - 1];
      i--;
    }
    this.recent[i] = value;
    this.recentCount++;
    if (this.recentCount > Math.max(4096, this.base.length >>> 3)) this.merge();
  }

  /**
   * Adds many fingerprints at once (a catch-up after thousands of statements): sorted together and
   * merged into the recent buffer in one pass, not inserted one by one.
   */
  addMany(fingerprints: Iterable<string>): void {
    const fresh: bigint[] = [];
    for (const f of fingerprints) {
      const halves = prefixHalves(f);
      if (!halves) throw new TypeError('a fingerprint is lower-case hex, at least 16 digits');
      if (contains(this.baseWords, this.base.length, halves[0], halves[1]) || contains(this.recentWords, this.recentCount, halves[0], halves[1])) continue;
      fresh.push((BigInt(halves[0]) << 32n) | BigInt(halves[1]));
    }
    if (fresh.length === 0) return;
    if (fresh.length < 16) {
      // One by one, each checked again: `fresh` may repeat a prefix (a catch-up listing one twice).
      for (const f of fresh) {
        const hi = Number(f >> 32n);
        const lo = Number(f & 0xffffffffn);
        if (!contains(this.baseWords, this.base.length, hi, lo) && !contains(this.recentWords, this.recentCount, hi, lo)) this.insert(f);
      }
      return;
    }
    const added = sortedUnique(BigUint64Array.from(fresh));
    const merged = new BigUint64Array(Math.max(16, this.recentCount + added.length));
    let a = 0;
    let b = 0;
    let n = 0;
    while (a < this.recentCount || b < added.length) {
      if (b >= added.length || (a < this.recentCount && this.recent[a] < added[b])) merged[n++] = this.recent[a++];
      else merged[n++] = added[b++];
    }
    this.recent = merged;
    this.recentWords = new Uint32Array(merged.buffer);
    this.recentCount = n;
    if (this.recentCount > Math.max(4096, this.base.length >>> 3)) this.merge();
  }

  /** Folds the recent keys into the base (both sorted: one linear merge). */
  private merge(): void {
    const merged = new BigUint64Array(this.base.length + this.recentCount);
    let a = 0;
    let b = 0;
    let n = 0;
    while (a < this.base.length || b < this.recentCount) {
      if (b >= this.recentCount || (a < this.base.length && this.base[a] < this.recent[b])) merged[n++] = this.base[a++];
      else merged[n++] = this.recent[b++];
    }
    this.base = merged;
    this.baseWords = new Uint32Array(merged.buffer);
    this.recent = new BigUint64Array(16);
    this.recentWords = new Uint32Array(this.recent.buffer);
    this.recentCount = 0;
  }
}
