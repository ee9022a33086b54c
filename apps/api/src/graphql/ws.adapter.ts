import type { IncomingMessage } from 'node:http';
import { type ExecutionResult, GraphQLError, type GraphQLSchema, type OperationDefinitionNode, OperationTypeNode } from 'graphql';
import type { Context, ServerOptions } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { GraphqlPipeline, type PipelineRequest } from './pipeline.js';

/** What graphql-ws's `ws` server gives each connection. */
interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
}

/** A subscription admitted on a connection: its request (caller, guards' cache) and when it started. */
interface Running {
  req: PipelineRequest;
  operation: OperationDefinitionNode;
  start: bigint;
  refusalsRecorded?: boolean;
}

/** Close code for a connection refused by a rate limit (4400–4499: the application's own range, 4429 as HTTP 429). */
export const WS_RATE_LIMITED = 4429;

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/**
 * graphql-ws on the GraphQL pipeline (pipeline.ts): the WebSocket transport's messages mapped
 * onto the same steps as HTTP's.
 *
 * - `connection_init`: the token in `{ authorization: "Bearer …" }` is authenticated as an HTTP
 *   request's would be — a refusal audited as `auth.refused`, and past CORDON_AUTH_FAILURE_LIMIT
 *   refusals a minute from one address, closed with 4429 and counted instead of audited (a flood
 *   of bad tokens cannot grow the log); a valid one counts against the principal's rate limit.
 * - `subscribe`: parsed within the token limit, validated with the same rules and armor limits,
 *   refused unless it is a subscription (queries and mutations go to POST /graphql), then
 *   authenticated again (the token may have expired since connect) and rate-limited; refusals
 *   audited, every error through the one formatter, every operation counted in the metrics.
 */
export function graphqlWsOptions(pipeline: GraphqlPipeline, schema: GraphQLSchema): ServerOptions<Record<string, unknown> | undefined, Extra> & { path: string } {
  const running = new WeakMap<object, Map<string, Running>>();
  const runningOn = (ctx: object) => {
    let map = running.get(ctx);
    if (!map) running.set(ctx, (map = new Map()));
    return map;
  };
  /** A fresh request for each message: its token, and the client's address for the sign-in brake. */
  const requestOf = (ctx: Context<Record<string, unknown> | undefined, Extra>): PipelineRequest => {
    const authorization = ctx.connectionParams?.authorization;
    return { headers: { authorization: typeof authorization === 'string' ? authorization : undefined }, ip: ctx.extra.request.socket.remoteAddress };
  };
  const format = (errors: readonly GraphQLError[]) => errors.map((e) => pipeline.formatError(e.toJSON(), e));

  return {
    path: '/graphql',
    onConnect: async (ctx) => {
      try {
        await pipeline.admit(requestOf(ctx));
        return true;
      } catch (err) {
        if (err instanceof GraphQLError && err.extensions?.code === 'RATE_LIMITED') {
          ctx.extra.socket.close(WS_RATE_LIMITED, err.message.slice(0, 120));
        }
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      const start = process.hrtime.bigint();
      const req = requestOf(ctx);
      const admitted = await pipeline.admitSubscription(schema, req, payload);
      if ('errors' in admitted) {
        await pipeline.recordRefusals(req, admitted.errors, admitted.operation?.operation);
        pipeline.observe(schema, req, admitted.operation, GraphqlPipeline.outcome(admitted.errors), seconds(start));
        return admitted.errors;
      }
      runningOn(ctx).set(id, { req, operation: admitted.operation, start });
      return admitted.args;
    },
    // The subscription started, or was refused at its source (a guard's FORBIDDEN): audit and count.
    onOperation: async (ctx, id, _payload, _args, result) => {
      const sub = runningOn(ctx).get(id);
      if (!sub) return undefined;
      const errors = Symbol.asyncIterator in Object(result) ? undefined : (result as ExecutionResult).errors;
      if (errors?.length) {
        sub.refusalsRecorded = true;
        await pipeline.recordRefusals(sub.req, errors, OperationTypeNode.SUBSCRIPTION);
      }
      pipeline.observe(schema, sub.req, sub.operation, GraphqlPipeline.outcome(errors), seconds(sub.start));
      return undefined;
    },
    // An event's field errors: formatted; its refusals audited once per subscription (each event
    // of a long-lived subscription would otherwise add the same access.denied row).
    onNext: async (ctx, id, _payload, _args, result) => {
      if (!result.errors) return undefined;
      const { errors, ...rest } = result;
      const sub = runningOn(ctx).get(id);
      if (sub && !sub.refusalsRecorded) {
        sub.refusalsRecorded = true;
        await pipeline.recordRefusals(sub.req, errors, OperationTypeNode.SUBSCRIPTION);
      }
      return { ...rest, errors: format(errors) } as unknown as ExecutionResult;
    },
    onError: (_ctx, _id, _payload, errors) => format(errors) as unknown as GraphQLError[],
    onComplete: (ctx, id) => {
      runningOn(ctx).delete(id);
    },
  };
}
