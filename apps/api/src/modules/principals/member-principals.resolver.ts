import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
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
  async principals(@CurrentCaller() caller: Caller, @Parent() member: MemberObject): Promise<PrincipalObject[] | null> {
    const list = await this.principalService.listForMember(caller, member.id);
    return list && list.map((p) => PrincipalObject.from(p));
  }
}
