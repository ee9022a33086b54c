import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { Role } from '../../common/roles.js';
import { MemberObject } from './dto/member.object.js';
import { CreateMemberInput } from './dto/member.input.js';
import { MembersService } from './members.service.js';

@Resolver(() => MemberObject)
export class MembersResolver {
  constructor(private readonly memberService: MembersService) {}

  @Query(() => MemberObject, { nullable: true, description: 'A member by id; null when there is none.' })
  @Authenticated()
  async member(@Args('id', { type: () => ID }) id: string): Promise<MemberObject | null> {
    const member = await this.memberService.get(id);
    return member && MemberObject.from(member);
  }

  @Query(() => [MemberObject], { description: 'The member directory (ids for shareWith, names, kinds).' })
  @Authenticated()
  async members(): Promise<MemberObject[]> {
    return (await this.memberService.list()).map((m) => MemberObject.from(m));
  }

  @Mutation(() => MemberObject)
  @Roles(Role.ADMIN)
  async createMember(@CurrentCaller() caller: Caller, @Args('input') input: CreateMemberInput): Promise<MemberObject> {
    return MemberObject.from(await this.memberService.create(caller, input));
  }

  @Mutation(() => MemberObject, { description: 'Refuses every principal of the member until reinstated.' })
  @Roles(Role.ADMIN)
  async suspendMember(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('reason') reason: string,
  ): Promise<MemberObject> {
    return MemberObject.from(await this.memberService.suspend(caller, id, reason));
  }

  @Mutation(() => MemberObject)
  @Roles(Role.ADMIN)
  async reinstateMember(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('note', { nullable: true }) note?: string,
  ): Promise<MemberObject> {
    return MemberObject.from(await this.memberService.reinstate(caller, id, note));
  }

  @ResolveField(() => String, { nullable: true, description: 'Why it is suspended; null unless your own member or you are a coordinator ADMIN/AUDITOR.' })
  @Authenticated()
  suspendedReason(@CurrentCaller() caller: Caller, @Parent() member: MemberObject): string | null {
    return this.memberService.canSeeInternals(caller, member.id) ? member.suspendedReason : null;
  }
}
