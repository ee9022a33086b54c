import { HttpException } from '@nestjs/common';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { CordonException, ErrorCode } from './cordon.exception.js';

const HTTP_CODES: Record<number, ErrorCode> = {
  400: ErrorCode.BAD_USER_INPUT,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
};

/** graphql-js messages about a literal argument value (not about the document's shape). */
const ARGUMENT_VALUE_ERROR =
  /^(Expected value of type|Value ".*" does not exist in ".*" enum|Enum ".*" cannot represent|(String|Int|Float|Boolean|ID|BigInt) cannot represent|Field ".*" of required type ".*" was not provided|Field ".*" is not defined by type)/s;

/**
 * graphql-js repeats a whole invalid variable in its message ("Variable "$i" got invalid value
 * { …, publicJwk: { d: … } }; …"). Keep the variable, the path and the reason, never the value:
 * it may hold a private key or a customer's address.
 */
export function withoutEchoedValue(message: string): string {
  const match = /^(Variable "\$[^"]+") got invalid value /.exec(message);
  if (!match) return message;
  const rest = message.slice(match[0].length);
  const reasonAt = rest.lastIndexOf('; ');
  const reason = reasonAt >= 0 ? rest.slice(reasonAt + 2) : 'invalid value';
  const path = /(?: at "([^"]+)")(?=; [^;]*$)/.exec(rest)?.[1];
  return `${match[1]} has an invalid value${path ? ` at "${path}"` : ''}: ${reason}`;
}

/**
 * The one place errors become what a client sees: a message and `extensions.code`, never a
 * stack trace, SQL or an internal message. Unexpected errors are logged and answered with
 * INTERNAL_SERVER_ERROR.
 */
export function errorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const base = { locations: formatted.locations, path: formatted.path };
    const original = unwrapResolverError(error);
    if (original instanceof CordonException) {
      return {
        ...base,
        message: original.message,
        extensions: { code: original.code, ...(original.field ? { field: original.field } : {}) },
      };
    }
    if (original instanceof HttpException) {
      const code = HTTP_CODES[original.getStatus()];
      if (code) return { ...base, message: original.message, extensions: { code } };
    }
    const code = formatted.extensions?.code;
    if (code === 'GRAPHQL_VALIDATION_FAILED' && ARGUMENT_VALUE_ERROR.test(formatted.message)) {
      // A literal argument of the wrong type or enum value is bad input, as for variables.
      return { ...base, message: formatted.message, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    if (typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const retry = formatted.extensions?.retryAfterSeconds;
      return { ...base, message: withoutEchoedValue(formatted.message), extensions: { code, ...(typeof retry === 'number' ? { retryAfterSeconds: retry } : {}) } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
