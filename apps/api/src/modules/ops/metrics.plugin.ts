import type { ApolloServerPlugin } from '@apollo/server';
import { Kind } from 'graphql';
import type { MetricsService } from './metrics.service.js';

/** Counts and times every GraphQL request by its top-level fields (a bounded set: the schema's). */
export function metricsPlugin(metrics: MetricsService): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const start = process.hrtime.bigint();
      return {
        async willSendResponse({ operation, response }) {
          const fields = operation?.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : [])) ?? [];
          const label = fields.length > 0 ? [...new Set(fields)].sort().join(',') : 'invalid';
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const outcome = errors?.length ? String(errors[0].extensions?.code ?? 'ERROR') : 'ok';
          metrics.requests.inc({ operation: label, outcome });
          metrics.latency.observe({ operation: label }, Number(process.hrtime.bigint() - start) / 1e9);
        },
      };
    },
  };
}
