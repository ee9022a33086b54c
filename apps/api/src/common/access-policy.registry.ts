import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ACCESS_POLICY, type AccessPolicy } from './access.decorator.js';

const RESOLVER_NAME = 'graphql:resolver_name';
const RESOLVER_TYPE = 'graphql:resolver_type';
const RESOLVE_PROPERTY = 'graphql:resolve_property';

export interface DeclaredOperation {
  /** `Query`, `Mutation`, `Subscription`, or `field` for a field resolver */
  type: string;
  name: string;
  resolver: string;
  policy: AccessPolicy | undefined;
}

/**
 * Lists every GraphQL resolver method with its access policy, and refuses to start the service
 * when one has none: deny by default is checked before the first request, not found by one.
 */
@Injectable()
export class AccessPolicyRegistry implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const missing = undeclared(this.operations());
    if (missing.length > 0) {
      throw new Error(`GraphQL operations without an access policy (@Public/@Authenticated/@Roles): ${missing.join(', ')}`);
    }
  }

  operations(): DeclaredOperation[] {
    const found: DeclaredOperation[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.metatype) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const handler = (proto as Record<string, unknown>)[method] as () => unknown;
        const isField = this.reflector.get<boolean | undefined>(RESOLVE_PROPERTY, handler) === true;
        const rootType = this.reflector.get<string | undefined>(RESOLVER_TYPE, handler);
        if (!isField && !rootType) continue;
        const type = isField ? 'field' : rootType!;
        const name = this.reflector.get<string | undefined>(RESOLVER_NAME, handler) ?? method;
        const policy =
          this.reflector.get<AccessPolicy | undefined>(ACCESS_POLICY, handler) ??
          this.reflector.get<AccessPolicy | undefined>(ACCESS_POLICY, wrapper.metatype as new () => unknown);
        found.push({ type, name, resolver: `${wrapper.name}.${method}`, policy });
      }
    }
    return found;
  }
}

export function undeclared(operations: DeclaredOperation[]): string[] {
  return operations.filter((op) => !op.policy).map((op) => op.resolver);
}
