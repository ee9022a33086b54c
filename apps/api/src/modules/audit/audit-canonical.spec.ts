import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalJson, canonicalParts } from './audit-canonical.js';

describe('canonicalParts', () => {
  it('before + index + after is the RFC 8785 canonical JSON of the whole event', () => {
    const uuid = fc.uuid();
    fc.assert(
      fc.property(
        fc.record({
          salt: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')),
          at: fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4e12) }).map((d) => d.toISOString()),
          action: fc.string({ unit: 'grapheme', maxLength: 30 }),
          actor: fc.option(fc.record({ principal: uuid, member: uuid })),
          subject: fc.option(fc.string({ maxLength: 40 })),
          subjectMember: fc.option(uuid),
          data: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })),
        }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (event, index) => {
          const { before, after } = canonicalParts(event);
          expect(before + String(index) + after).toBe(canonicalize({ v: 2, index, ...event }));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes arrays of strings (screening events: thousands of fingerprints) exactly as canonicalize does, refusing lone surrogates as it does', () => {
    // 'binary' strings hold whole code points (valid pairs); lone surrogates are added by hand.
    const loneSurrogate = fc.constantFrom('\ud800', 'a\udfffb', '\udc00\ud800', '\ud83d');
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.stringMatching(/^[0-9a-f]{64}$/), loneSurrogate);
    const value = fc.oneof(
      fc.array(text, { maxLength: 20 }),
      fc.record({ count: fc.nat(), fingerprints: fc.array(text, { maxLength: 20 }) }),
      fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.oneof(fc.array(text, { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }))),
      fc.array(fc.oneof(text, fc.constant(null), fc.integer()), { maxLength: 6 }),
      // Lone values, every number included (-0, NaN, ±Infinity, exponents).
      fc.oneof(text, fc.double(), fc.integer(), fc.constantFrom(-0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE), fc.boolean(), fc.constant(null)),
      fc.array(fc.oneof(fc.double(), fc.boolean(), fc.constant(null)), { maxLength: 6 }),
    );
    fc.assert(
      fc.property(value, (v) => {
        let expected: string | Error;
        try {
          expected = canonicalize(v) as string;
        } catch (err) {
          expected = err as Error;
        }
        if (expected instanceof Error) expect(() => canonicalJson(v)).toThrow(expected.message);
        else expect(canonicalJson(v)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
