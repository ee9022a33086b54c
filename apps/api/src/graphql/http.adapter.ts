import type { ApolloServerPlugin } from '@apollo/server';
import { GraphqlPipeline, type PipelineRequest } from './pipeline.js';

type Context = { req: PipelineRequest };

/**
 * HTTP (Apollo) on the GraphQL pipeline (pipeline.ts). Apollo parses (parseOptions: the same
 * token limit) and validates (validationRules: the same armor limits) itself; this plugin adds
 * the pipeline's other steps at Apollo's hooks: every operation authenticated and rate-limited
 * before it executes — introspection and `__typename` included (SPEC 2: every request carries a
 * token), a refused token answered HTTP 401 — its refusals audited, and the request counted.
 */
export function httpPipelinePlugin(pipeline: GraphqlPipeline): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const start = process.hrtime.bigint();
      return {
        async didResolveOperation({ contextValue }) {
          await pipeline.admit(contextValue.req);
        },
        async didEncounterErrors({ contextValue, errors, operation }) {
          await pipeline.recordRefusals(contextValue.req, errors, operation?.operation);
        },
        async willSendResponse({ contextValue, operation, response, schema }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          pipeline.observe(schema, contextValue.req, operation ?? undefined, GraphqlPipeline.outcome(errors), Number(process.hrtime.bigint() - start) / 1e9);
        },
      };
    },
  };
}
