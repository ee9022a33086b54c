import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { AUTHENTICATION, CALLER, type RequestWithCaller } from '../../common/caller.js';
import { CordonException, ErrorCode } from '../../common/cordon.exception.js';
import type { AuditService } from '../audit/audit.service.js';
import type { RateLimits } from '../ops/rate-limits.js';
import type { AuthService } from './auth.service.js';

type Context = { req: RequestWithCaller };

/**
 * Every GraphQL operation is authenticated before it executes (SPEC 2: every request carries a
 * token), introspection and `__typename` included: a refused token answers HTTP 401 with
 * UNAUTHENTICATED and nothing runs. The guard then reuses the same result per field.
 * Refusals of a role (FORBIDDEN), wherever they are raised, are audited once per request.
 */
export function authPlugin(auth: AuthService, audit: AuditService, limits: RateLimits): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue }) {
          const req = contextValue.req;
          req[AUTHENTICATION] ??= auth.authenticate(req.headers.authorization, (req as { ip?: string }).ip);
          try {
            req[CALLER] = await req[AUTHENTICATION];
          } catch (err) {
            if (err instanceof CordonException && err.code === ErrorCode.UNAUTHENTICATED) {
              throw new GraphQLError(err.message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
            }
            throw err;
          }
          await limits.request(req[CALLER].principalId);
        },
        async didEncounterErrors({ contextValue, errors, operation }) {
          const caller = contextValue.req[CALLER];
          if (!caller) return;
          const codeOf = (e: GraphQLError) => {
            const original = unwrapResolverError(e);
            return original instanceof CordonException ? original.code : String(e.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR);
          };
          const denied = errors.filter((e) => codeOf(e) === ErrorCode.FORBIDDEN);
          if (denied.length > 0) {
            await audit.recordAlone({
              action: 'access.denied',
              actor: caller,
              subjectId: null,
              data: { denied: denied.map((e) => ({ path: (e.path ?? []).join('.'), reason: e.message })) },
            });
            return;
          }
          // A refused mutation is part of the record too (its outcome): which field, which code —
          // never the values sent.
          // (A rate-limited request is counted in metrics, not logged: a flood must not fill the log.)
          if (operation?.operation !== 'mutation' || errors.some((e) => codeOf(e) === 'RATE_LIMITED')) return;
          await audit.recordAlone({
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
        },
      };
    },
  };
}
