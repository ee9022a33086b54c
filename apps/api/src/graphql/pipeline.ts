import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { CordonConfig } from '@app/config';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  getOperationAST,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type ValidationRule,
} from 'graphql';
import type { Logger } from 'pino';
import { AUTHENTICATION, CALLER, type Caller, type RequestWithCaller } from '../common/caller.js';
import { CordonException, ErrorCode } from '../common/cordon.exception.js';
import { errorFormatter } from '../common/format-error.js';
import type { AuditService } from '../modules/audit/audit.service.js';
import type { AuthService } from '../modules/auth/auth.service.js';
import type { MetricsService } from '../modules/ops/metrics.service.js';
import type { RateLimits } from '../modules/ops/rate-limits.js';

export interface PipelineDeps {
  auth: AuthService;
  audit: AuditService;
  metrics: MetricsService;
  limits: RateLimits;
}

/** Tokens in one GraphQL document; large batches travel as variables, which do not count. */
export const MAX_TOKENS = 5000;

/** A request as the pipeline sees it, whichever transport brought it: its headers and client address. */
export type PipelineRequest = RequestWithCaller & { ip?: string };

/**
 * Step 3 of every transport — GraphQL over HTTP and WebSocket, and the bulk screening endpoint
 * (screening/bulk-screen.ts): the caller (once per request), counted against its rate limit.
 * Throws UNAUTHENTICATED (HTTP 401) or RATE_LIMITED (429) as GraphQL errors (their
 * `extensions.http` carry the status and headers).
 */
export async function admitRequest(deps: Pick<PipelineDeps, 'auth' | 'limits'>, req: PipelineRequest): Promise<Caller> {
  req[AUTHENTICATION] ??= deps.auth.authenticate(req.headers.authorization, req.ip);
  try {
    req[CALLER] = await req[AUTHENTICATION];
  } catch (err) {
    if (err instanceof CordonException && err.code === ErrorCode.UNAUTHENTICATED) {
      throw new GraphQLError(err.message, { extensions: { code: ErrorCode.UNAUTHENTICATED, ...(err.reason ? { reason: err.reason } : {}), http: { status: 401 } } });
    }
    throw err;
  }
  await deps.limits.request(req[CALLER].principalId);
  return req[CALLER];
}

/** The code and HTTP status of a document refused before it runs. */
const PARSE_FAILED = 'GRAPHQL_PARSE_FAILED';
const VALIDATION_FAILED = 'GRAPHQL_VALIDATION_FAILED';

/**
 * The one pipeline every GraphQL operation goes through, over HTTP (Apollo's plugins call it)
 * and over graphql-ws (the WebSocket hooks call it), in the same order:
 *
 * 1. parse within the token limit (MAX_TOKENS);
 * 2. validate with graphql-js's rules and graphql-armor's depth, alias, cost and directive limits;
 * 3. authenticate (a refused token is audited as `auth.refused` — past CORDON_AUTH_FAILURE_LIMIT a
 *    minute from one address, counted instead) and count the request against the principal's rate
 *    limit (CORDON_RATE_LIMIT);
 * 4. execute; then audit refusals (FORBIDDEN as `access.denied`, a refused mutation as
 *    `mutation.refused`);
 * 5. format every error in one place (a code, never a stack trace, a suggestion or an echoed value);
 * 6. count and time it in the metrics, labelled from a bounded set.
 *
 * A transport adapts its messages to these steps; none of them is written twice.
 */
export class GraphqlPipeline {
  /** graphql-armor's limits, as validation rules (the same for both transports) */
  readonly limitRules: readonly ValidationRule[];
  /** graphql-armor's plugins for Apollo (what armor does beyond validation rules) */
  readonly armorPlugins: ApolloServerPlugin[];
  /** the one error formatter (SPEC error codes; no stack traces, suggestions or echoed values) */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

  constructor(
    config: CordonConfig,
    logger: Logger,
    private readonly deps: PipelineDeps,
  ) {
    const armor = new ApolloArmor({
      maxDepth: { n: config.maxQueryDepth },
      maxAliases: { n: config.maxAliases },
      costLimit: { maxCost: config.maxQueryCost },
      // armor's token limit re-parses in a plugin hook, which turns every syntax error into a 500;
      // graphql-js enforces the same limit in its own parser (parse below), answered as a 400.
      maxTokens: { enabled: false },
      maxDirectives: { n: 20 },
      // Suggestions are removed from every message by the formatter, whichever the transport.
      blockFieldSuggestion: { enabled: false },
    }).protect();
    this.limitRules = armor.validationRules as ValidationRule[];
    this.armorPlugins = armor.plugins as ApolloServerPlugin[];
    this.formatError = errorFormatter(logger);
  }

  /** Step 1: the document, or a syntax error (GRAPHQL_PARSE_FAILED) — also past MAX_TOKENS. */
  parse(source: unknown): DocumentNode {
    if (typeof source !== 'string' || source.trim() === '') {
      throw new GraphQLError('GraphQL operations must contain a non-empty `query`', { extensions: { code: 'BAD_REQUEST' } });
    }
    try {
      return parse(source, { maxTokens: MAX_TOKENS });
    } catch (err) {
      const e = err as GraphQLError;
      throw new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { code: PARSE_FAILED } });
    }
  }

  /** Step 2: graphql-js's rules and armor's limits; every error GRAPHQL_VALIDATION_FAILED. */
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
    let found: readonly GraphQLError[];
    try {
      found = validate(schema, document, [...specifiedRules, ...this.limitRules], { maxErrors: 10 });
    } catch (err) {
      // graphql-js's single-root-field rule throws on a root field's directive that uses a variable.
      return [new GraphQLError(`the document cannot be validated: ${(err as Error).message}`, { extensions: { code: VALIDATION_FAILED } })];
    }
    return found.map(
      (e) => new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, originalError: e.originalError, extensions: { code: VALIDATION_FAILED } }),
    );
  }

  /**
   * Step 3: the caller (once per request: guards reuse it), counted against its rate limit.
   * Throws UNAUTHENTICATED (HTTP 401) or RATE_LIMITED (429) as GraphQL errors.
   */
  admit(req: PipelineRequest): Promise<Caller> {
    return admitRequest(this.deps, req);
  }

  /**
   * Step 4's record: a request's refusals, audited once per request — FORBIDDEN as
   * `access.denied`; a refused mutation as `mutation.refused` (which field, which code, never
   * the values sent). A rate-limited request is counted in metrics, not logged: a flood must not
   * fill the log. Nothing for an unauthenticated request (its `auth.refused` is written).
   */
  async recordRefusals(req: PipelineRequest, errors: readonly GraphQLError[], operation: OperationTypeNode | undefined): Promise<void> {
    const caller = req[CALLER];
    if (!caller || errors.length === 0) return;
    const codeOf = (e: GraphQLError) => {
      const original = unwrapResolverError(e);
      return original instanceof CordonException ? original.code : String(e.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR);
    };
    const denied = errors.filter((e) => codeOf(e) === ErrorCode.FORBIDDEN);
    if (denied.length > 0) {
      await this.deps.audit.recordAlone({
        action: 'access.denied',
        actor: caller,
        subjectId: null,
        data: { denied: denied.map((e) => ({ path: (e.path ?? []).join('.'), reason: e.message })) },
      });
      return;
    }
    if (operation !== OperationTypeNode.MUTATION || errors.some((e) => codeOf(e) === 'RATE_LIMITED')) return;
    await this.deps.audit.recordAlone({
      action: 'mutation.refused',
      actor: caller,
      subjectId: null,
      subjectMemberId: caller.memberId,
      data: {
        refused: errors.map((e) => {
          const original = unwrapResolverError(e);
          const field = original instanceof CordonException ? original.field : undefined;
          return { path: (e.path ?? []).join('.'), code: codeOf(e), ...(field ? { field } : {}) };
        }),
      },
    });
  }

  /**
   * Step 6: counted and timed. The label comes from a bounded set: `unauthenticated` before a
   * caller is known, `invalid` for a document that never resolved to an operation, the one root
   * field an authenticated request asked for (the schema's root fields), or `multiple`.
   */
  observe(schema: GraphQLSchema | undefined, req: PipelineRequest | undefined, operation: OperationDefinitionNode | undefined, outcome: string, seconds: number): void {
    const label = this.label(schema, req, operation);
    this.deps.metrics.requests.inc({ operation: label, outcome });
    this.deps.metrics.latency.observe({ operation: label }, seconds);
  }

  private label(schema: GraphQLSchema | undefined, req: PipelineRequest | undefined, operation: OperationDefinitionNode | undefined): string {
    if (!req?.[CALLER]) return 'unauthenticated';
    if (!operation) return 'invalid';
    const fields = new Set(operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : ['fragment'])));
    if (fields.size !== 1) return 'multiple';
    const [field] = fields;
    const root = operation.operation === OperationTypeNode.QUERY ? schema?.getQueryType() : operation.operation === OperationTypeNode.MUTATION ? schema?.getMutationType() : schema?.getSubscriptionType();
    if (field === '__typename' || field === '__schema' || field === '__type') return field;
    return root?.getFields()[field] ? field : 'invalid';
  }

  /** The first error's code, or `ok`: the metrics' outcome. */
  static outcome(errors: readonly { extensions?: Record<string, unknown> }[] | undefined): string {
    return errors?.length ? String(errors[0].extensions?.code ?? 'ERROR') : 'ok';
  }

  /**
   * The WebSocket transport's admission of one `subscribe` message: authenticated and counted
   * against the principal's rate limit first (every message, refused ones included), then
   * parsed, validated, refused unless it is a subscription (graphql-ws carries subscriptions only,
   * SPEC 7: queries and mutations go through HTTP's one front door), its variables coerced as
   * HTTP coerces them — the execution arguments, or the errors to answer with.
   */
  async admitSubscription(
    schema: GraphQLSchema,
    req: PipelineRequest,
    payload: { query?: unknown; operationName?: unknown; variables?: unknown },
  ): Promise<{ args: ExecutionArgs; operation: OperationDefinitionNode } | { errors: GraphQLError[]; operation?: OperationDefinitionNode }> {
    try {
      await this.admit(req);
    } catch (err) {
      if (err instanceof GraphQLError) return { errors: [err] };
      throw err;
    }
    let document: DocumentNode;
    try {
      document = this.parse(payload.query);
    } catch (err) {
      return { errors: [err as GraphQLError] };
    }
    const errors = this.validate(schema, document);
    if (errors.length > 0) return { errors: [...errors] };
    const operationName = typeof payload.operationName === 'string' ? payload.operationName : undefined;
    const operation = getOperationAST(document, operationName) ?? undefined;
    if (!operation) return { errors: [new GraphQLError('the document has no operation of that name (or several and no operationName)', { extensions: { code: 'BAD_REQUEST' } })] };
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return {
        operation,
        errors: [
          new GraphQLError(`a ${operation.operation} cannot run over graphql-ws, which carries subscriptions only (indicatorChanged): send it to POST /graphql`, {
            extensions: { code: 'BAD_REQUEST' },
          }),
        ],
      };
    }
    const raw = payload.variables ?? {};
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      return { operation, errors: [new GraphQLError('variables: must be a JSON object', { extensions: { code: 'BAD_USER_INPUT' } })] };
    }
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], raw as Record<string, unknown>, { maxErrors: 10 });
    if (coerced.errors) {
      return { operation, errors: coerced.errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { code: 'BAD_USER_INPUT' } })) };
    }
    return { operation, args: { schema, document, operationName, variableValues: raw as Record<string, unknown>, contextValue: { req } } };
  }
}
