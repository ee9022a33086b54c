import { Args, Context, Field, Float, ID, Int, ObjectType, Parent, Query, ResolveField, Resolver, Subscription } from '@nestjs/graphql';
import { Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import { IndicatorObject, PageInfo } from '../indicators/dto/indicator.object.js';
import { IndicatorsService } from '../indicators/indicators.service.js';
import { AuthService } from '../auth/auth.service.js';
import { ChangeStream } from './change-stream.js';
import { type ChangeRow, changeCursor, ChangesService } from './changes.service.js';

@ObjectType('Change', { description: 'One change of an indicator you can see, in commit order.' })
export class ChangeObject {
  @Field(() => Float, { description: 'The audit index of the transaction that made the change (commit order, gapless).' })
  auditIndex: number;

  @Field({ description: 'CREATED (the first statement you may see), ATTESTED (another one) or STATUS (a curation, dispute, revocation, expiry … of a statement you may see).' })
  change: string;

  @Field(() => IndicatorStatus, { description: 'Your status of the indicator as the change left it.' })
  status: IndicatorStatus;

  @Field()
  at: Date;

  @Field(() => ID)
  indicatorId: string;
}

@ObjectType('ChangeEdge')
export class ChangeEdge {
  @Field()
  cursor: string;

  @Field(() => ChangeObject)
  node: ChangeObject;
}

@ObjectType('ChangeConnection')
export class ChangeConnection {
  @Field(() => [ChangeEdge])
  edges: ChangeEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@Resolver(() => ChangeObject)
export class ChangesResolver {
  constructor(
    private readonly changeService: ChangesService,
    private readonly indicators: IndicatorsService,
    private readonly stream: ChangeStream,
    private readonly auth: AuthService,
  ) {}

  @Query(() => ChangeConnection, { description: 'The change feed, for clients that keep a local copy; pass the last cursor as after.' })
  @Authenticated()
  async changes(
    @CurrentCaller() caller: Caller,
    @Args('after', { nullable: true }) after?: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
  ): Promise<ChangeConnection> {
    const { rows, hasNextPage } = await this.changeService.page(caller, first, after);
    const edges = rows.map((r) => ({ cursor: changeCursor(r), node: toChange(r) }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null } };
  }

  @Subscription(() => ChangeObject, {
    name: 'indicatorChanged',
    description: 'The changes feed, live (graphql-ws; authenticate with { authorization: "Bearer <token>" } in connection_init).',
    resolve: (payload: ChangeObject) => payload,
  })
  @Authenticated()
  async *indicatorChanged(@CurrentCaller() caller: Caller): AsyncGenerator<ChangeObject> {
    for await (const row of this.stream.subscribe(caller, () => this.auth.standing(caller.kid))) yield toChange(row);
  }

  @ResolveField(() => IndicatorObject, { nullable: true, description: 'The indicator as you see it now.' })
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: object, @Parent() change: ChangeObject): Promise<IndicatorObject | null> {
    const view = await this.indicators.get(req, caller, change.indicatorId);
    return view && IndicatorObject.from(view);
  }
}

function toChange(r: ChangeRow): ChangeObject {
  return Object.assign(new ChangeObject(), {
    auditIndex: Number(r.idx),
    change: r.change,
    status: r.status as IndicatorStatus,
    at: r.at,
    indicatorId: r.indicator_id,
  });
}
