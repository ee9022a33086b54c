import { Args, Context, ID, Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Role } from '../../common/roles.js';
import { IndicatorObject } from '../indicators/dto/indicator.object.js';
import { IndicatorsService } from '../indicators/indicators.service.js';
import { MemberObject } from '../members/dto/member.object.js';
import { SightingCountsObject, SightingKind, SightingObject } from './dto/sighting.object.js';
import { memberLoader } from './feedback.shared.js';
import { SightingsService } from './sightings.service.js';

type Req = object;

@Resolver(() => SightingObject)
export class SightingsResolver {
  constructor(
    private readonly sightingService: SightingsService,
    private readonly indicators: IndicatorsService,
    private readonly dataSource: DataSource,
  ) {}

  @Mutation(() => SightingObject, {
    description: 'Reports what your member saw or did about an indicator it can see. ACTIONED: you are notified if it is later revoked.',
  })
  @Roles(Role.CONTRIBUTOR, Role.SCREENER)
  async reportSighting(
    @CurrentCaller() caller: Caller,
    @Args('indicatorId', { type: () => ID }) indicatorId: string,
    @Args('kind', { type: () => SightingKind }) kind: SightingKind,
    @Args('note', { type: () => String, nullable: true }) note?: string | null,
  ): Promise<SightingObject> {
    return SightingObject.from(await this.sightingService.report(caller, indicatorId, kind, note));
  }

  @ResolveField(() => IndicatorObject)
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() sighting: SightingObject): Promise<IndicatorObject> {
    const view = await this.indicators.get(req, caller, sighting.indicatorId);
    if (!view) throw CordonException.notFound('indicator');
    return IndicatorObject.from(view);
  }

  @ResolveField(() => MemberObject, { description: 'The reporting member.' })
  @Authenticated()
  async member(@Context('req') req: Req, @Parent() sighting: SightingObject): Promise<MemberObject> {
    const member = await memberLoader(req, this.dataSource).load(sighting.memberId);
    if (!member) throw CordonException.notFound('member');
    return MemberObject.from(member);
  }
}

/** Adds the sighting counts to the Indicator type (one query per request, however many indicators). */
@Resolver(() => IndicatorObject)
export class IndicatorSightingsResolver {
  constructor(private readonly sightingService: SightingsService) {}

  @ResolveField(() => SightingCountsObject, {
    description: 'Sightings reported on it by kind: by every member that reported on a statement you see too.',
  })
  @Authenticated()
  async sightings(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<SightingCountsObject> {
    return Object.assign(new SightingCountsObject(), await this.sightingService.countsOf(req, caller, indicator.id));
  }

  @ResolveField(() => [SightingObject], {
    description:
      'The latest report per member and kind, newest first, with its note and reportCount: your own member’s; a COORDINATOR member’s principals read every member’s.',
  })
  @Authenticated()
  async sightingReports(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<SightingObject[]> {
    return (await this.sightingService.latestReports(req, caller, indicator.id)).map((r) => SightingObject.from(r));
  }
}
