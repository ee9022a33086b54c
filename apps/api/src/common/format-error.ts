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
    if (typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return { ...base, message: formatted.message, extensions: { code } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
