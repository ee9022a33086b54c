import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalParts } from './audit-canonical.js';

describe('canonicalParts', () => {
  it('before + index + after is the RFC 8785 canonical JSON of the whole event', () => {
    const uuid = fc.uuid();
    fc.assert(
      fc.property(
        fc.record({
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
          expect(before + String(index) + after).toBe(canonicalize({ v: 1, index, ...event }));
        },
      ),
      { numRuns: 500 },
    );
  });
});
