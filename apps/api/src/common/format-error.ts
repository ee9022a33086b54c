import { HttpException } from '@nestjs/common';
import { unwrapResolverError } from '@apollo/server/errors';
import { type ASTNode, type DocumentNode, type GraphQLError, type GraphQLFormattedError, Kind, parse, visit } from 'graphql';
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
  // graphql-js's reason may quote the value again ('Boolean cannot represent a non boolean value: "…"').
  const reason = (reasonAt >= 0 ? rest.slice(reasonAt + 2) : 'invalid value').replace(/^(.* cannot represent (?:a )?non[\w -]* value): .*$/s, '$1');
  const path = /(?: at "([^"]+)")(?=; [^;]*$)/.exec(rest)?.[1];
  return `${match[1]} has an invalid value${path ? ` at "${path}"` : ''}: ${reason}`;
}

/**
 * The argument (and input field) a literal value error is about, e.g. `first` or `input.name`:
 * graphql-js names the value, not where it was written.
 */
const parsedSources = new WeakMap<object, DocumentNode>();

export function literalArgumentPath(error: unknown): string | undefined {
  // Duck-typed: graphql's ESM and CommonJS builds may both be loaded (instanceof would fail).
  const e = error as Partial<Pick<GraphQLError, 'nodes' | 'source'>> | null;
  if (!e || typeof e !== 'object') return undefined;
  const target = e.nodes?.[0];
  const body = e.source?.body;
  if (!target?.loc || body === undefined) return undefined;
  let found: string | undefined;
  try {
    // One parse per document, however many errors it has (graphql-js reports up to 100).
    let document = parsedSources.get(e.source!);
    if (!document) parsedSources.set(e.source!, (document = parse(body)));
    visit(document, {
      enter(node: ASTNode, _key, parent, _path, ancestors) {
        if (found !== undefined || !node.loc || node.loc.start !== target.loc!.start || node.kind !== target.kind) return;
        // `ancestors` stops short of the parent, which is passed on its own.
        const names = [...ancestors, parent, node]
          .filter((a): a is ASTNode => !Array.isArray(a) && typeof a === 'object' && a !== null && 'kind' in a)
          .flatMap((a) => (a.kind === Kind.ARGUMENT || a.kind === Kind.OBJECT_FIELD ? [a.name.value] : []));
        if (names.length > 0) found = names.join('.');
      },
    });
  } catch {
    return undefined;
  }
  return found;
}

/**
 * The one place errors become what a client sees: a message and `extensions.code`, never a
 * stack trace, SQL or an internal message. Unexpected errors are logged and answered with
 * INTERNAL_SERVER_ERROR.
 */
export function errorFormatter(logger: Logger) {
  const format = formatterOf(logger);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const out = format(formatted, error);
    return SUGGESTION.test(out.message) ? { ...out, message: withoutSuggestions(out.message) } : out;
  };
}

/** graphql-js's "Did you mean …?" hints (fields, arguments, types, enum values). */
const SUGGESTION = /\s*Did you mean [^?]*\?/;

/**
 * A message without graphql-js's suggestions: they would tell a client the names of fields and
 * enum values near the one it guessed (graphql-armor hid field suggestions only, and only over
 * HTTP); the message still names what was wrong.
 */
export function withoutSuggestions(message: string): string {
  return message.replace(new RegExp(SUGGESTION.source, 'g'), '');
}

function formatterOf(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const base = { locations: formatted.locations, path: formatted.path };
    const original = unwrapResolverError(error);
    if (original instanceof CordonException) {
      return {
        ...base,
        message: original.message,
        extensions: { code: original.code, ...(original.field ? { field: original.field } : {}), ...(original.reason ? { reason: original.reason } : {}) },
      };
    }
    if (original instanceof HttpException) {
      const code = HTTP_CODES[original.getStatus()];
      if (code) return { ...base, message: original.message, extensions: { code } };
    }
    const code = formatted.extensions?.code;
    if (code === 'GRAPHQL_VALIDATION_FAILED' && ARGUMENT_VALUE_ERROR.test(formatted.message)) {
      // A literal argument of the wrong type or enum value is bad input, as for variables, named.
      const field = literalArgumentPath(error);
      const message = field ? `${field}: ${formatted.message}` : formatted.message;
      return { ...base, message, extensions: { code: ErrorCode.BAD_USER_INPUT, ...(field ? { field } : {}) } };
    }
    if (typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      const retry = formatted.extensions?.retryAfterSeconds;
      const reason = code === ErrorCode.UNAUTHENTICATED ? formatted.extensions?.reason : undefined;
      return {
        ...base,
        message: withoutEchoedValue(formatted.message),
        extensions: { code, ...(typeof retry === 'number' ? { retryAfterSeconds: retry } : {}), ...(typeof reason === 'string' ? { reason } : {}) },
      };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error in a GraphQL operation');
    return { ...base, message: 'Internal server error', extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
