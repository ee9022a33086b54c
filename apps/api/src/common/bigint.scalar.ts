import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function whole(value: unknown): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new GraphQLError(`BigInt cannot represent ${JSON.stringify(value)}: a whole number between -(2^53 - 1) and 2^53 - 1 is expected`);
  }
  return n;
}

/**
 * SPEC 8: sizes and indexes of the audit log, integers that do not overflow at 2^31, serialised
 * as JSON numbers and passed as literals. JavaScript numbers hold every integer up to 2^53 - 1
 * exactly (a log of that size is out of reach), so the scalar is a safe integer in and out.
 * (graphql-scalars' BigInt hands resolvers native bigints and serialises beyond 2^53 as strings
 * unless JSON is patched globally; this keeps numbers numbers.)
 */
export const BigIntScalar = new GraphQLScalarType<number, number>({
  name: 'BigInt',
  description: 'A whole number up to 2^53 - 1, serialised as a JSON number (audit log sizes and indexes).',
  serialize: whole,
  parseValue: whole,
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw new GraphQLError('BigInt cannot represent a non-integer literal', { nodes: ast });
    try {
      return whole(ast.value);
    } catch (err) {
      // with the node, so the error can name the argument it was written for
      throw new GraphQLError((err as Error).message, { nodes: ast });
    }
  },
});
