import type { ApolloDriverConfig } from '@nestjs/apollo';
import { JitApolloDriver } from './common/jit-driver.js';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { CordonConfig } from '@app/config';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Logger } from 'pino';
import { errorFormatter } from './common/format-error.js';
import { type InFlight, inFlightPlugin } from './common/in-flight.js';
import type { AuditService } from './modules/audit/audit.service.js';
import { authPlugin } from './modules/auth/auth.plugin.js';
import type { AuthService } from './modules/auth/auth.service.js';
import { metricsPlugin } from './modules/ops/metrics.plugin.js';
import type { MetricsService } from './modules/ops/metrics.service.js';
import type { RateLimits } from './modules/ops/rate-limits.js';

export interface GraphqlDeps {
  auth: AuthService;
  audit: AuditService;
  metrics: MetricsService;
  limits: RateLimits;
  inFlight: InFlight;
}

/** Tokens in one GraphQL document; large batches travel as variables, which do not count. */
const MAX_TOKENS = 5000;

/**
 * A document refused before execution (syntax, validation, armor limits) is the client's error:
 * answer 400, not the 500 Apollo gives when a plugin refuses it during parsing.
 */
const clientErrorStatus: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const { errors, data } = response.body.singleResult;
        const codes = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);
        if (data === undefined && errors?.length && errors.every((e) => codes.has(String(e.extensions?.code)))) {
          response.http.status = 400;
        }
      },
    };
  },
};

/** Apollo, code-first, with graphql-armor's depth, alias, cost and token limits. */
export function graphqlOptions(config: CordonConfig, logger: Logger, { auth, audit, metrics, limits, inFlight }: GraphqlDeps): ApolloDriverConfig {
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxQueryDepth },
    maxAliases: { n: config.maxAliases },
    costLimit: { maxCost: config.maxQueryCost },
    // armor's token limit re-parses in a plugin hook, which turns every syntax error into a 500;
    // graphql-js enforces the same limit in its own parser (parseOptions below), answered as a 400.
    maxTokens: { enabled: false },
    maxDirectives: { n: 20 },
    blockFieldSuggestion: { enabled: true },
  }).protect();
  return {
    driver: JitApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    playground: false,
    introspection: true,
    fieldResolverEnhancers: ['guards'],
    formatError: errorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    plugins: [
      ...(armor.plugins as NonNullable<ApolloDriverConfig['plugins']>),
      clientErrorStatus,
      inFlightPlugin(inFlight),
      metricsPlugin(metrics),
      authPlugin(auth, audit, limits),
      // Nothing here is HTTP-cacheable (every answer depends on who asks), and the cache-control
      // plugin wraps every field resolver: 30,000 wrapped fields in a 10,000-item screenBatch answer.
      ApolloServerPluginCacheControlDisabled(),
    ],
    validationRules: armor.validationRules,
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: MAX_TOKENS },
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        // The same self-signed token as over HTTP, in connection_init: { authorization: "Bearer …" }.
        onConnect: async (ctx: { connectionParams?: Record<string, unknown> }) => {
          const authorization = ctx.connectionParams?.authorization;
          try {
            await auth.authenticate(typeof authorization === 'string' ? authorization : undefined);
            return true;
          } catch {
            return false;
          }
        },
        // graphql-ws takes a context option too (Nest's type omits it): the guard reads the token
        // from a request-like object, as over HTTP.
        ...({
          context: (ctx: { connectionParams?: Record<string, unknown> }) => ({
            req: { headers: { authorization: ctx.connectionParams?.authorization as string | undefined } },
          }),
        } as object),
      },
    },
  };
}
