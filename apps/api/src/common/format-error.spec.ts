import { buildSchema, parse, validate } from 'graphql';
import { literalArgumentPath } from './format-error.js';

describe('literalArgumentPath', () => {
  const schema = buildSchema(`
    input Filter { since: Int, inner: Inner }
    input Inner { name: String! }
    type Query { events(first: Int, filter: Filter): Int }
  `);
  const path = (doc: string) => literalArgumentPath(validate(schema, parse(doc))[0]);

  it('names the argument or input field a literal value error is about', () => {
    expect(path('{ events(first: "x") }')).toBe('first');
    expect(path('{ events(filter: true) }')).toBe('filter');
    expect(path('{ events(filter: { since: "x" }) }')).toBe('filter.since');
    expect(path('{ events(filter: { inner: { name: 3 } }) }')).toBe('filter.inner.name');
  });
});
