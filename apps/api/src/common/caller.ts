import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { MemberKind, type Role } from './roles.js';

/** The authenticated principal making a request, as the guard resolved it. */
export interface Caller {
  principalId: string;
  memberId: string;
  memberKind: MemberKind;
  roles: ReadonlySet<Role>;
  kid: string;
}

export function isCoordinator(caller: Caller): boolean {
  return caller.memberKind === MemberKind.COORDINATOR;
}

export function hasRole(caller: Caller, ...roles: Role[]): boolean {
  return roles.some((r) => caller.roles.has(r));
}

/** Where the guard leaves the caller on the request: the pending authentication, then its result. */
export const AUTHENTICATION = Symbol('authentication');
export const CALLER = Symbol('caller');
export type RequestWithCaller = {
  [AUTHENTICATION]?: Promise<Caller>;
  [CALLER]?: Caller;
  headers: Record<string, string | string[] | undefined>;
};

export function requestOf(ctx: ExecutionContext): RequestWithCaller {
  if (ctx.getType<string>() === 'graphql') {
    return GqlExecutionContext.create(ctx).getContext<{ req: RequestWithCaller }>().req;
  }
  return ctx.switchToHttp().getRequest<RequestWithCaller>();
}

/** The caller as an explicit argument: `me(@CurrentCaller() caller: Caller)`. */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = requestOf(ctx)[CALLER];
  if (!caller) throw new Error('CurrentCaller used on a route the AccessGuard did not authenticate');
  return caller;
});
