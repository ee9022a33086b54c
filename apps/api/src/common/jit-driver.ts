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
  getNamedType,
  getOperationAST,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  isSpecifiedScalarType,
  OperationTypeNode,
  printSchema,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

/** Execution plans kept, one per document and operation (least recently used dropped first). */
const PLANS_MAX = 500;

interface Compiled {
  query: CompiledQuery;
  /** variables whose type holds an input object somewhere (see arrayForObject) */
  objectVariables: [string, GraphQLInputType][];
}

/** What graphql-jit's placeholders for NaN, ±Infinity and dates in generated code start with. */
const JIT_PLACEHOLDER = '__MAGIC_';

/** Why an operation runs on graphql-js, or its compiled form. */
type Plan = Compiled | { reference: string };

export interface JitRequest {
  /** the same key for the same document and operation name (Apollo's query hash) */
  key: string;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
  contextValue?: unknown;
}

/**
 * Which engine runs an operation: graphql-jit for the queries it runs exactly as graphql-js
 * does, graphql-js (with the reason) for everything where graphql-jit 0.8 is known to differ:
 * - mutations: graphql-jit runs the fields after a failed non-null one anyway (their writes
 *   would take effect while the answer is null); graphql-js stops;
 * - @skip/@include: graphql-jit keeps the conditions on the shared document nodes, so fragments
 *   spread twice, or shared by two operations of one document, can lose fields;
 * - a variable inside a literal of a custom scalar (`publicJwk: { kty: "OKP", x: $x }`):
 *   graphql-jit parses such literals once, at compile time, without the variables;
 * - variable default values: graphql-jit inlines them as JSON, skipping custom scalars' parsing;
 * - any string or name containing `__MAGIC_`: graphql-jit writes literal arguments into the code
 *   it generates as JSON, then rewrites its own placeholders in that text (`"__MAGIC_DATE__…x"`
 *   becomes `new Date(x)`), so a string literal carrying a placeholder would run as code on the
 *   server (or turn into NaN);
 * - subscriptions, an unknown operation name, anything graphql-jit does not compile.
 */
export function executionPlan(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): Plan {
  const operation = getOperationAST(document, operationName);
  if (!operation) return { reference: 'no such operation' };
  if (operation.operation !== OperationTypeNode.QUERY) return { reference: operation.operation };
  let reference: string | undefined;
  const typeInfo = new TypeInfo(schema);
  const customLiterals: boolean[] = [];
  const literal = {
    enter: () => {
      const named = getNamedType(typeInfo.getInputType() ?? undefined);
      customLiterals.push(isScalarType(named) && !isSpecifiedScalarType(named));
    },
    leave: () => {
      customLiterals.pop();
    },
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      StringValue(node) {
        if (node.value.includes(JIT_PLACEHOLDER)) reference ??= 'a string like graphql-jit placeholders';
      },
      Name(node) {
        if (node.value.includes(JIT_PLACEHOLDER)) reference ??= 'a name like graphql-jit placeholders';
      },
      Directive(node) {
        if (node.name.value === 'skip' || node.name.value === 'include') reference ??= `@${node.name.value}`;
      },
      VariableDefinition(node) {
        if (node.defaultValue) reference ??= 'a variable default value';
      },
      ObjectValue: literal,
      ListValue: literal,
      Variable() {
        if (customLiterals.includes(true)) reference ??= 'a variable inside a custom scalar literal';
      },
    }),
  );
  if (reference) return { reference };
  const query = compileQuery(schema, document, operationName ?? undefined);
  if (!isCompiledQuery(query)) return { reference: 'not compiled' };
  const objectVariables = (operation.variableDefinitions ?? []).flatMap((d): [string, GraphQLInputType][] => {
    const type = typeFromAST(schema, d.type) as GraphQLInputType | undefined;
    return type && holdsInputObject(type) ? [[d.variable.name.value, type]] : [];
  });
  return { query, objectVariables };
}

/**
 * Operations run by graphql-jit where it runs them exactly as graphql-js does (executionPlan):
 * each distinct query document is compiled once into plain JavaScript (variable coercion and
 * result completion included) instead of being interpreted by graphql-js on every request — for
 * a 10,000-input screenBatch, less than half the server's CPU time.
 *
 * graphql-js stays the authority: it runs every other operation, it refuses (in its words, which
 * Apollo classifies as BAD_USER_INPUT) the variables graphql-jit refuses, and it runs a request
 * that gives an array for an input object, which graphql-jit would take as {}. jit-driver.spec.ts
 * holds the two to the same answers.
 */
export function jitExecutor(schema: GraphQLSchema, max = PLANS_MAX): (request: JitRequest) => Promise<ExecutionResult> {
  const plans = new Map<string, Plan>();
  const reference = (r: JitRequest) =>
    execute({ schema, document: r.document, variableValues: r.variables, contextValue: r.contextValue, operationName: r.operationName });
  return async (r) => {
    let plan = plans.get(r.key);
    if (plan) {
      plans.delete(r.key);
    } else {
      plan = executionPlan(schema, r.document, r.operationName);
      if (plans.size >= max) plans.delete(plans.keys().next().value!);
    }
    plans.set(r.key, plan);
    if ('reference' in plan) return reference(r);
    const variables = r.variables ?? {};
    if (plan.objectVariables.some(([name, type]) => arrayForObject(type, variables[name]))) return reference(r);
    const result = await plan.query.query(undefined, r.contextValue, variables);
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
export function jitGateway(schema: GraphQLSchema, max = PLANS_MAX): GatewayInterface {
  const run = jitExecutor(schema, max);
  const executor: GatewayExecutor = (rc) =>
    run({
      // No operation name and an empty one are different requests (the latter names no operation).
      key: rc.request.operationName == null ? rc.queryHash : `${rc.queryHash}\u0000${rc.request.operationName}`,
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

/** Options that build the subscription transport's options from the schema, once it exists. */
export interface SubscriptionsFromSchema {
  subscriptionsFor?: (schema: GraphQLSchema) => ApolloDriverConfig['subscriptions'];
  /** the largest WebSocket message taken (bytes); larger ones close the connection (1009) */
  subscriptionMaxPayload?: number;
}

/**
 * Nest's Apollo driver with execution by graphql-jit (subscriptions stay with graphql-js), and
 * the subscription transport's options built from the schema (`subscriptionsFor`): graphql-ws
 * then checks documents against the same schema and rules as HTTP.
 */
@Injectable()
export class JitApolloDriver extends ApolloDriver {
  override async start(options: ApolloDriverConfig & SubscriptionsFromSchema): Promise<void> {
    if (options.subscriptionsFor) options.subscriptions = options.subscriptionsFor(options.schema!);
    await super.start(options);
    // Nest builds graphql-ws's WebSocket server itself; ws reads maxPayload at each upgrade.
    const wss = (this as unknown as { _subscriptionService?: { wss?: { options: { maxPayload?: number } } } })._subscriptionService?.wss;
    if (wss && options.subscriptionMaxPayload) wss.options.maxPayload = options.subscriptionMaxPayload;
  }

  override async registerServer(options: ApolloDriverConfig): Promise<void> {
    // Apollo takes the executor from a gateway when given one (its schema option is then unused).
    await super.registerServer({ ...options, gateway: jitGateway(options.schema!) } as ApolloDriverConfig);
  }
}
