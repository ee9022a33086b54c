import { SetMetadata, applyDecorators } from '@nestjs/common';
import type { Role } from './roles.js';

/**
 * Deny by default: every resolver method and controller route declares who may call it, with
 * exactly one of these. The global AccessGuard refuses anything without a declaration, and a
 * test walks the schema to prove every operation has one.
 */
export const ACCESS_POLICY = 'cordon:access-policy';

export type AccessPolicy =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'roles'; roles: readonly Role[] };

/** No authentication (health, JWKS). Never used on GraphQL operations. */
export const Public = () => SetMetadata(ACCESS_POLICY, { kind: 'public' } satisfies AccessPolicy);

/** Any authenticated principal, whatever its roles (e.g. `me`); the service scopes the rest. */
export const Authenticated = () => SetMetadata(ACCESS_POLICY, { kind: 'authenticated' } satisfies AccessPolicy);

/** A principal holding at least one of these roles. */
export const Roles = (...roles: Role[]) =>
  applyDecorators(SetMetadata(ACCESS_POLICY, { kind: 'roles', roles } satisfies AccessPolicy));
