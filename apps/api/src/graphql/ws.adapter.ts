import type { IncomingMessage } from 'node:http';
import { createSourceEventStream, type ExecutionArgs, type ExecutionResult, execute, GraphQLError, type GraphQLSchema, type OperationDefinitionNode, OperationTypeNode } from 'graphql';
import { AUTHENTICATION, CALLER } from '../common/caller.js';
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

/** Most subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS_PER_CONNECTION = 10;

/**
 * graphql-js's subscribe, except that every event is executed with a request of its own (the
 * caller and its authentication carried over): the per-request caches — the viewer's indicator
 * views, statements, the once-per-request `site.url.read` — then hold for one delivery, as they
 * hold for one HTTP request, instead of for the subscription's whole life (stale answers, URL
 * reads after the first unaudited, memory that only grows).
 */
export async function subscribePerEvent(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
  const events = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const base = (args.contextValue as { req: PipelineRequest }).req;
  const requestFor = (): PipelineRequest => ({ headers: base.headers, ip: base.ip, [AUTHENTICATION]: base[AUTHENTICATION], [CALLER]: base[CALLER] });
  async function* deliveries(): AsyncGenerator<ExecutionResult> {
    try {
      for (let next = await events.next(); !next.done; next = await events.next()) {
        yield (await execute({ ...args, rootValue: next.value, contextValue: { req: requestFor() } })) as ExecutionResult;
      }
    } finally {
      await events.return?.();
    }
  }
  return deliveries();
}

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
export function graphqlWsOptions(pipeline: GraphqlPipeline, schema: GraphQLSchema, maxSubscriptions: number): ServerOptions<Record<string, unknown> | undefined, Extra> & { path: string } {
  const running = new WeakMap<object, Map<string, Running>>();
  /**
   * Live subscriptions per principal in this process (CORDON_MAX_SUBSCRIPTIONS). A subscription is
   * live while graphql-ws still lists it on its connection: a client's `complete` or a closed
   * socket takes it off at once, even while its stream waits for the next change.
   */
  const perPrincipal = new Map<string, Set<{ ctx: Context<Record<string, unknown> | undefined, Extra>; id: string }>>();
  const liveOf = (principal: string) => {
    const subs = perPrincipal.get(principal) ?? new Set();
    for (const sub of subs) if (!(sub.id in sub.ctx.subscriptions)) subs.delete(sub);
    if (subs.size === 0) perPrincipal.delete(principal);
    return subs;
  };
  const release = (ctx: object, id: string) => {
    runningOn(ctx).delete(id);
  };
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
        // Refused before it ran (transport, document, variables, limits): as over HTTP, not audited.
        pipeline.observe(schema, req, admitted.operation, GraphqlPipeline.outcome(admitted.errors), seconds(start));
        return admitted.errors;
      }
      // Every live subscription costs a feed read per change: bounded per connection and per principal.
      const principal = req[CALLER]!.principalId;
      const held = liveOf(principal).size;
      const onConnection = Object.keys(ctx.subscriptions).filter((other) => other !== id).length;
      const limit =
        onConnection >= MAX_SUBSCRIPTIONS_PER_CONNECTION
          ? `at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions on one connection`
          : held >= maxSubscriptions
            ? `at most ${maxSubscriptions} live subscriptions per principal (CORDON_MAX_SUBSCRIPTIONS); complete one first`
            : undefined;
      if (limit) {
        const errors = [new GraphQLError(limit, { extensions: { code: 'RATE_LIMITED' } })];
        pipeline.observe(schema, req, admitted.operation, 'RATE_LIMITED', seconds(start));
        return errors;
      }
      perPrincipal.set(principal, liveOf(principal).add({ ctx, id }));
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
    onError: (ctx, id, _payload, errors) => {
      release(ctx, id);
      return format(errors) as unknown as GraphQLError[];
    },
    onComplete: (ctx, id) => release(ctx, id),
    // Each delivery with a request of its own (subscribePerEvent).
    subscribe: subscribePerEvent,
  };
}
