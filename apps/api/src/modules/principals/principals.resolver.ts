import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { Role } from '../../common/roles.js';
import { PrincipalKeyObject, PrincipalObject } from './dto/principal.object.js';
import { CreatePrincipalInput } from './dto/principal.input.js';
import { PrincipalsService } from './principals.service.js';

@Resolver(() => PrincipalObject)
export class PrincipalsResolver {
  constructor(private readonly principals: PrincipalsService) {}

  @Query(() => PrincipalObject, { description: 'The principal whose key signed this request.' })
  @Authenticated()
  async me(@CurrentCaller() caller: Caller): Promise<PrincipalObject> {
    return PrincipalObject.from(await this.principals.me(caller));
  }

  @Query(() => PrincipalObject, { nullable: true, description: 'Null when absent or not yours to see.' })
  @Authenticated()
  async principal(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<PrincipalObject | null> {
    const principal = await this.principals.get(caller, id);
    return principal && PrincipalObject.from(principal);
  }

  @Mutation(() => PrincipalObject)
  @Roles(Role.ADMIN)
  async createPrincipal(@CurrentCaller() caller: Caller, @Args('input') input: CreatePrincipalInput): Promise<PrincipalObject> {
    return PrincipalObject.from(await this.principals.create(caller, input));
  }

  @Mutation(() => PrincipalKeyObject, { description: 'Key rotation: an ADMIN for any principal, or a principal for itself.' })
  @Authenticated()
  async addPrincipalKey(
    @CurrentCaller() caller: Caller,
    @Args('principalId', { type: () => ID }) principalId: string,
    @Args('publicJwk', { type: () => GraphQLJSON }) publicJwk: unknown,
  ): Promise<PrincipalKeyObject> {
    return PrincipalKeyObject.from(await this.principals.addKey(caller, principalId, publicJwk));
  }

  @Mutation(() => PrincipalKeyObject, { description: 'An ADMIN for any key, or a principal for its own (not its last).' })
  @Authenticated()
  async revokePrincipalKey(
    @CurrentCaller() caller: Caller,
    @Args('kid', { type: () => ID }) kid: string,
    @Args('reason') reason: string,
  ): Promise<PrincipalKeyObject> {
    return PrincipalKeyObject.from(await this.principals.revokeKey(caller, kid, reason));
  }

  @Mutation(() => PrincipalObject, { description: 'Replaces a principal’s roles.' })
  @Roles(Role.ADMIN)
  async setPrincipalRoles(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('roles', { type: () => [Role] }) roles: Role[],
  ): Promise<PrincipalObject> {
    return PrincipalObject.from(await this.principals.setRoles(caller, id, roles));
  }

  @Mutation(() => PrincipalObject, { description: 'Refuses the principal whatever its keys, until enabled.' })
  @Roles(Role.ADMIN)
  async disablePrincipal(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('reason') reason: string,
  ): Promise<PrincipalObject> {
    return PrincipalObject.from(await this.principals.disable(caller, id, reason));
  }

  @Mutation(() => PrincipalObject)
  @Roles(Role.ADMIN)
  async enablePrincipal(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<PrincipalObject> {
    return PrincipalObject.from(await this.principals.enable(caller, id));
  }
}
