import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { PrefixSet, prefixHalves } from './index.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('PrefixSet: listed fingerprints by their first 8 bytes (issue 19)', () => {
  it('says "maybe" for every fingerprint added, in any order and however many times, and "no" for others', () => {
    const listed = Array.from({ length: 5000 }, (_, i) => sha(`listed ${i}`));
    const set = PrefixSet.of([...listed, ...listed.slice(0, 100)]);
    expect(set.size).toBe(5000);
    for (const f of listed) expect(set.mayContain(f)).toBe(true);
    const others = Array.from({ length: 5000 }, (_, i) => sha(`other ${i}`));
    expect(others.filter((f) => set.mayContain(f))).toEqual([]);
  });

  it('a fingerprint sharing only the 8-byte prefix is a "maybe" (the query decides), one differing in it is a "no"', () => {
    const f = sha('x');
    const set = PrefixSet.of([f]);
    expect(set.mayContain(f.slice(0, 16) + '0'.repeat(48))).toBe(true);
    const flipped = (f[15] === '0' ? '1' : '0');
    expect(set.mayContain(f.slice(0, 15) + flipped + f.slice(16))).toBe(false);
  });

  it('grows from the change feed: keys added after the build are found, through every merge, and nothing added is lost', () => {
    const initial = Array.from({ length: 20_000 }, () => randomBytes(32).toString('hex'));
    const set = PrefixSet.of(initial);
    const added: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const f = randomBytes(32).toString('hex');
      added.push(f);
      set.add(f);
      if (i % 3989 === 0) for (const g of added) expect(set.mayContain(g)).toBe(true);
    }
    set.add(initial[0]);
    expect(set.size).toBe(32_000);
    for (const f of [...initial, ...added]) expect(set.mayContain(f)).toBe(true);
    const misses = Array.from({ length: 20_000 }, () => randomBytes(32).toString('hex')).filter((f) => set.mayContain(f));
    expect(misses).toEqual([]);
  });

  it('addMany: a catch-up of thousands at once (repeats, known ones included) equals adding them one by one', () => {
    const initial = Array.from({ length: 3000 }, () => randomBytes(32).toString('hex'));
    const one = PrefixSet.of(initial);
    const many = PrefixSet.of(initial);
    const batches = [Array.from({ length: 10 }, () => randomBytes(32).toString('hex'))];
    for (let i = 0; i < 4; i++) batches.push(Array.from({ length: 2500 }, () => randomBytes(32).toString('hex')));
    batches[2].push(...batches[1].slice(0, 50), initial[7]);
    for (const batch of batches) {
      for (const f of batch) one.add(f);
      many.addMany(batch);
    }
    expect(many.size).toBe(one.size);
    expect(many.size).toBe(3000 + 10 + 4 * 2500);
    for (const f of [...initial, ...batches.flat()]) expect(many.mayContain(f)).toBe(true);
    expect(Array.from({ length: 10_000 }, () => randomBytes(32).toString('hex')).filter((f) => many.mayContain(f))).toEqual([]);
  });

  it('pack: big-endian 8-byte prefixes from the database become the set', () => {
    const listed = Array.from({ length: 1000 }, () => randomBytes(32).toString('hex')).sort();
    const bytes = Buffer.from(listed.map((f) => f.slice(0, 16)).join(''), 'hex');
    const into = new BigUint64Array(1200);
    expect(PrefixSet.pack(bytes.subarray(0, 4000), into, 0)).toBe(500);
    expect(PrefixSet.pack(bytes.subarray(4000), into, 500)).toBe(500);
    const set = PrefixSet.fromPrefixes(into.subarray(0, 1000), { owned: true });
    expect(set.size).toBe(1000);
    for (const f of listed) expect(set.mayContain(f)).toBe(true);
    expect(set.mayContain(randomBytes(32).toString('hex'))).toBe(false);
  });

  it('orders by the unsigned 64-bit prefix (high halves at and above 2^31 included)', () => {
    const edge = ['ffffffffffffffff', '8000000000000000', '7fffffffffffffff', '0000000000000000', '0000000100000000', '00000000ffffffff'].map((p) => p + '0'.repeat(48));
    const set = PrefixSet.of(edge);
    for (const f of edge) expect(set.mayContain(f)).toBe(true);
    for (const p of ['fffffffffffffffe', '8000000000000001', '0000000000000001', '0000000200000000']) expect(set.mayContain(p + '0'.repeat(48))).toBe(false);
  });

  it('property: after any sequence of builds, adds and catch-ups, it answers exactly as a Set of the 8-byte prefixes added', () => {
    // Prefixes from a small pool (edges of the unsigned order included), so that repeats, equal
    // high halves and merges of the recent buffer happen often.
    const pool = ['0000000000000000', 'ffffffffffffffff', '8000000000000000', '7fffffff00000001', ...Array.from({ length: 60 }, () => randomBytes(8).toString('hex'))];
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const fingerprint = fc.oneof(fc.tuple(fc.constantFrom(...pool), hex(48)).map(([p, rest]) => p + rest), hex(64));
    // Large catch-ups too, so that the recent buffer is merged into the base (past 4,096 keys).
    const op = fc.oneof(
      fc.record({ add: fingerprint }),
      fc.record({ addMany: fc.array(fingerprint, { maxLength: 40 }) }),
      fc.record({ addMany: fc.array(fingerprint, { minLength: 1000, maxLength: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(fingerprint, { maxLength: 300 }), fc.array(op, { maxLength: 12 }), (initial, ops) => {
        const set = PrefixSet.of(initial);
        const model = new Set(initial.map((f) => f.slice(0, 16)));
        for (const o of ops) {
          const added = 'add' in o ? [o.add] : o.addMany;
          if ('add' in o) set.add(o.add);
          else set.addMany(o.addMany);
          for (const f of added) model.add(f.slice(0, 16));
          if (set.size !== model.size) return false;
        }
        const probes = [...pool, ...model, ...Array.from({ length: 200 }, () => randomBytes(8).toString('hex'))];
        return probes.every((p) => set.mayContain(p + '0'.repeat(48)) === model.has(p));
      }),
      { numRuns: 60 },
    );
  });

  it('refuses what is not a fingerprint', () => {
    const set = PrefixSet.of([]);
    expect(set.mayContain('XYZ')).toBe(false);
    expect(set.mayContain('ABCDEF0123456789' + '0'.repeat(48))).toBe(false);
    expect(() => set.add('not hex')).toThrow(TypeError);
    expect(prefixHalves('0123456789abcdef')).toEqual([0x01234567, 0x89abcdef]);
  });

  it('holds 8 bytes a key', () => {
    const set = PrefixSet.of(Array.from({ length: 100_000 }, (_, i) => sha(String(i))));
    expect(set.bytes).toBeLessThan(100_000 * 8 + 1024);
  });
});
