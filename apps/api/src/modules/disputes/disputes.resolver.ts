import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Role } from '../../common/roles.js';
import { IndicatorObject } from '../indicators/dto/indicator.object.js';
import { IndicatorsService } from '../indicators/indicators.service.js';
import { MemberObject } from '../members/dto/member.object.js';
import { DisputeConnection, DisputeObject } from './dto/dispute.object.js';
import { type DisputeResult, DisputesService } from './disputes.service.js';
import { encodeCursor } from '../../common/paging.js';
import { memberLoader } from './feedback.shared.js';

type Req = object;

@Resolver(() => DisputeObject)
export class DisputesResolver {
  constructor(
    private readonly disputeService: DisputesService,
    private readonly indicators: IndicatorsService,
    private readonly dataSource: DataSource,
  ) {}

  @Mutation(() => DisputeObject, {
    description: 'Disputes an indicator your member can see (id: the indicator’s). It becomes DISPUTED and still matches until a curator decides.',
  })
  @Roles(Role.CONTRIBUTOR)
  async disputeIndicator(
    @CurrentCaller() caller: Caller,
    @Context('req') req: Req,
    @Args('id', { type: () => ID, description: 'The indicator’s id.' }) id: string,
    @Args('reason') reason: string,
  ): Promise<DisputeObject> {
    return this.answer(req, caller, await this.disputeService.open(caller, id, reason));
  }

  @Mutation(() => DisputeObject, {
    description:
      'Decides an OPEN dispute (id: the dispute’s). upheld: the indicator is REVOKED, every other open dispute on it is upheld too, ' +
      'and members that reported ACTIONED are notified; not upheld: once no other dispute is open, the status before the dispute returns.',
  })
  @Roles(Role.CURATOR)
  async resolveDispute(
    @CurrentCaller() caller: Caller,
    @Context('req') req: Req,
    @Args('id', { type: () => ID, description: 'The dispute’s id.' }) id: string,
    @Args('upheld') upheld: boolean,
    @Args('note', { type: () => String, nullable: true }) note?: string | null,
  ): Promise<DisputeObject> {
    return this.answer(req, caller, await this.disputeService.resolve(caller, id, upheld, note));
  }

  @Query(() => DisputeConnection, {
    description: 'Disputes, oldest first: all of them for curators (filterable by status), otherwise your own member’s.',
  })
  @Authenticated()
  async disputes(
    @CurrentCaller() caller: Caller,
    @Args('status', { type: () => String, nullable: true, description: 'OPEN, UPHELD or REJECTED.' }) status?: string | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('indicatorId', { type: () => ID, nullable: true, description: 'Only disputes on this indicator.' }) indicatorId?: string | null,
  ): Promise<DisputeConnection> {
    const { rows, hasNextPage } = await this.disputeService.page(caller, { status, indicatorId }, first, after);
    const edges = rows.map((row) => ({ cursor: encodeCursor('disputes', row.created_us, row.id), node: DisputeObject.from(row) }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null } };
  }

  @Query(() => DisputeObject, { nullable: true, description: 'One dispute: curators any, otherwise your own member’s; null when absent.' })
  @Authenticated()
  async dispute(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<DisputeObject | null> {
    const row = await this.disputeService.get(caller, id);
    return row && DisputeObject.from(row);
  }

  @ResolveField(() => IndicatorObject, { description: 'The disputed indicator.' })
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() dispute: DisputeObject): Promise<IndicatorObject> {
    const view = await this.indicators.get(req, caller, dispute.indicatorId);
    if (!view) throw CordonException.notFound('indicator');
    return IndicatorObject.from(view);
  }

  @ResolveField(() => MemberObject, { description: 'The disputing member.' })
  @Authenticated()
  async member(@Context('req') req: Req, @Parent() dispute: DisputeObject): Promise<MemberObject> {
    const member = await memberLoader(req, this.dataSource).load(dispute.memberId);
    if (!member) throw CordonException.notFound('member');
    return MemberObject.from(member);
  }

  /** The request's indicator loader must not answer with the row as it was before the change. */
  private answer(req: Req, caller: Caller, result: DisputeResult): DisputeObject {
    const loader = this.indicators.viewLoader(req, caller).clear(result.dispute.indicator_id);
    if (result.indicator) loader.prime(result.indicator.id, result.indicator);
    return DisputeObject.from(result.dispute);
  }
}
