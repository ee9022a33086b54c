import { Injectable } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
  getOperationAST,
  isInputObjectType,
  isListType,
  isNonNullType,
  printSchema,
  typeFromAST,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/** Compiled operations kept (least recently used dropped first). */
const COMPILED_MAX = 500;

interface Compiled {
  query: CompiledQuery;
  /** variables whose type holds an input object somewhere (see arrayForObject) */
  objectVariables: [string, GraphQLInputType][];
}

export interface JitRequest {
  /** the same key for the same document and operation name (Apollo's query hash) */
  key: string;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  contextValue?: unknown;
}

/**
 * Operations run by graphql-jit: each distinct document is compiled once into plain JavaScript
 * (variable coercion and result completion included) instead of being interpreted by graphql-js
 * on every request — for a 10,000-input screenBatch, less than half the server's CPU time.
 *
 * graphql-js stays the authority where the two could differ: variables graphql-jit refuses are
 * refused by graphql-js (its wording, which Apollo classifies as BAD_USER_INPUT), and so is an
 * array given for an input object, which graphql-jit would take as {} (jit-driver.spec.ts holds
 * graphql-jit to graphql-js over every input type of schema.graphql).
 */
export function jitExecutor(schema: GraphQLSchema, max = COMPILED_MAX): (request: JitRequest) => Promise<ExecutionResult> {
  const compiled = new Map<string, Compiled>();
  const reference = (r: JitRequest) =>
    execute({ schema, document: r.document, variableValues: r.variables, contextValue: r.contextValue, operationName: r.operationName });
  return async (r) => {
    let entry = compiled.get(r.key);
    if (entry) {
      compiled.delete(r.key);
    } else {
      const query = compileQuery(schema, r.document, r.operationName ?? undefined);
      if (!isCompiledQuery(query)) return reference(r);
      const definitions = getOperationAST(r.document, r.operationName)?.variableDefinitions ?? [];
      const objectVariables = definitions.flatMap((d): [string, GraphQLInputType][] => {
        const type = typeFromAST(schema, d.type) as GraphQLInputType | undefined;
        return type && holdsInputObject(type) ? [[d.variable.name.value, type]] : [];
      });
      entry = { query, objectVariables };
      if (compiled.size >= max) compiled.delete(compiled.keys().next().value!);
    }
    compiled.set(r.key, entry);
    const variables = r.variables ?? {};
    if (entry.objectVariables.some(([name, type]) => arrayForObject(type, variables[name]))) return reference(r);
    const result = await entry.query.query(undefined, r.contextValue, variables);
    // Nothing ran: the variables were refused; graphql-js refuses them again, in its words.
    if (result.data === undefined && result.errors?.length) return reference(r);
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };
}

function holdsInputObject(type: GraphQLInputType): boolean {
  return isNonNullType(type) || isListType(type) ? holdsInputObject(type.ofType) : isInputObjectType(type);
}

/** Per input object type, its fields that can hold an input object (none for ScreenInput). */
const objectFields = new WeakMap<GraphQLInputObjectType, [string, GraphQLInputType][]>();

/** Whether `value` has an array where `type` wants an input object (graphql-js refuses it). */
function arrayForObject(type: GraphQLInputType, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (isNonNullType(type)) return arrayForObject(type.ofType, value);
  if (isListType(type)) {
    if (!Array.isArray(value)) return arrayForObject(type.ofType, value);
    for (const item of value) if (arrayForObject(type.ofType, item)) return true;
    return false;
  }
  if (!isInputObjectType(type)) return false;
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object') return false;
  let fields = objectFields.get(type);
  if (!fields) {
    fields = Object.values(type.getFields()).flatMap((f): [string, GraphQLInputType][] => (holdsInputObject(f.type) ? [[f.name, f.type]] : []));
    objectFields.set(type, fields);
  }
  for (const [name, fieldType] of fields) {
    if (Object.hasOwn(value, name) && arrayForObject(fieldType, (value as Record<string, unknown>)[name])) return true;
  }
  return false;
}

/**
 * graphql-jit's errors are frozen look-alikes of graphql-js's; Apollo's plugins (graphql-armor's
 * suggestion filter) rewrite messages, and unwrapResolverError looks for the original error.
 */
function asGraphQLError(error: GraphQLError): GraphQLError {
  const copy = new GraphQLError(error.message, {
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
  Object.assign(copy, { locations: error.locations });
  return copy;
}

/**
 * Apollo's executor hook is its "gateway" interface: here a gateway of one local schema. Apollo
 * still parses, validates, runs every plugin hook and formats errors; only execution is swapped.
 */
export function jitGateway(schema: GraphQLSchema, max = COMPILED_MAX): GatewayInterface {
  const run = jitExecutor(schema, max);
  const executor: GatewayExecutor = (rc) =>
    run({
      key: `${rc.queryHash}\u0000${rc.request.operationName ?? ''}`,
      document: rc.document,
      operationName: rc.request.operationName,
      variables: rc.request.variables,
      contextValue: rc.context,
    });
  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return () => undefined;
    },
    async load() {
      return { executor };
    },
    async stop() {},
  };
}

/** Nest's Apollo driver with execution by graphql-jit (subscriptions stay with graphql-js). */
@Injectable()
export class JitApolloDriver extends ApolloDriver {
  override async registerServer(options: ApolloDriverConfig): Promise<void> {
    // Apollo takes the executor from a gateway when given one (its schema option is then unused).
    await super.registerServer({ ...options, gateway: jitGateway(options.schema!) } as ApolloDriverConfig);
  }
}
