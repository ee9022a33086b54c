import type { ApolloDriverConfig } from '@nestjs/apollo';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { CordonConfig } from '@app/config';
import type { Logger } from 'pino';
import { type InFlight, inFlightPlugin } from '../common/in-flight.js';
import { JitApolloDriver, type SubscriptionsFromSchema } from '../common/jit-driver.js';
import { httpPipelinePlugin } from './http.adapter.js';
import { GraphqlPipeline, MAX_TOKENS, type PipelineDeps } from './pipeline.js';
import { graphqlWsOptions } from './ws.adapter.js';

export interface GraphqlDeps extends PipelineDeps {
  inFlight: InFlight;
}


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

/**
 * Apollo, code-first, on the one GraphQL pipeline (pipeline.ts): the same token limit, validation
 * rules and armor limits, authentication, rate limits, refusal audit, error formatting and
 * metrics for HTTP and for graphql-ws (ws.adapter.ts).
 */
export function graphqlOptions(config: CordonConfig, logger: Logger, { inFlight, ...deps }: GraphqlDeps): ApolloDriverConfig & SubscriptionsFromSchema {
  const pipeline = new GraphqlPipeline(config, logger, deps);
  return {
    driver: JitApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    playground: false,
    introspection: true,
    fieldResolverEnhancers: ['guards'],
    formatError: pipeline.formatError,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ...(pipeline.armorPlugins as NonNullable<ApolloDriverConfig['plugins']>),
      clientErrorStatus,
      inFlightPlugin(inFlight),
      httpPipelinePlugin(pipeline) as ApolloServerPlugin,
      // Nothing here is HTTP-cacheable (every answer depends on who asks), and the cache-control
      // plugin wraps every field resolver: 30,000 wrapped fields in a 10,000-item screenBatch answer.
      ApolloServerPluginCacheControlDisabled(),
    ],
    validationRules: [...pipeline.limitRules],
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: MAX_TOKENS },
    // graphql-ws on the same pipeline, built by JitApolloDriver once the schema exists.
    subscriptions: { 'graphql-ws': { path: '/graphql' } },
    subscriptionsFor: (schema) => ({ 'graphql-ws': graphqlWsOptions(pipeline, schema, config.maxSubscriptions) as NonNullable<ApolloDriverConfig['subscriptions']>['graphql-ws'] }),
    // WebSocket messages are held to the HTTP body limit (ws's own default is 100 MiB).
    subscriptionMaxPayload: config.maxBodyBytes,
  };
}
