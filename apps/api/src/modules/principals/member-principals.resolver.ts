import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { requestLoader } from '../../common/request-loader.js';
import { MemberObject } from '../members/dto/member.object.js';
import { PrincipalObject } from './dto/principal.object.js';
import { PrincipalsService } from './principals.service.js';

@Resolver(() => MemberObject)
export class MemberPrincipalsResolver {
  constructor(private readonly principalService: PrincipalsService) {}

  @ResolveField(() => [PrincipalObject], {
    nullable: true,
    description: 'The member’s principals and their keys; null unless your own member or you are a coordinator ADMIN/AUDITOR.',
  })
  @Authenticated()
  async principals(@CurrentCaller() caller: Caller, @Context('req') req: object, @Parent() member: MemberObject): Promise<PrincipalObject[] | null> {
    if (!this.principalService.canSeePrincipalsOf(caller, member.id)) return null;
    // One query for all the members of a request (members { principals }), not one per member.
    const loader = requestLoader(req, 'member-principals', (ids: readonly string[]) => this.principalService.byMembers(ids));
    return (await loader.load(member.id)).map((p) => PrincipalObject.from(p));
  }
}
