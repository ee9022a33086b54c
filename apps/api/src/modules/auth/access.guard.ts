import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ACCESS_POLICY, type AccessPolicy } from '../../common/access.decorator.js';
import { AUTHENTICATION, CALLER, hasRole, requestOf } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { AuthService } from './auth.service.js';

/**
 * The one global guard. Deny by default: a handler without an access policy is refused.
 * Authentication happens once per request, however many fields ask.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [ctx.getHandler(), ctx.getClass()]);
    if (!policy) throw CordonException.forbidden('this operation declares no access policy');
    if (policy.kind === 'public') return true;
    const req = requestOf(ctx);
    req[AUTHENTICATION] ??= this.auth.authenticate(req.headers.authorization);
    const caller = await req[AUTHENTICATION];
    req[CALLER] = caller;
    if (policy.kind === 'roles' && !hasRole(caller, ...policy.roles)) {
      throw CordonException.forbidden(`requires one of the roles ${policy.roles.join(', ')}`);
    }
    return true;
  }
}
