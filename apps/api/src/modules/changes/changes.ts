import { Injectable } from '@nestjs/common';
import { Args, Context, Field, Float, ID, Int, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { DataSource } from 'typeorm';
import { Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { decodeCursor, encodeCursor, pageSize } from '../../common/paging.js';
import { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import { IndicatorObject, PageInfo } from '../indicators/dto/indicator.object.js';
import { indicatorVisible } from '../indicators/indicator.rows.js';
import { IndicatorsService } from '../indicators/indicators.service.js';

@ObjectType('Change', { description: 'One change of an indicator you can see, in commit order.' })
export class ChangeObject {
  @Field(() => Float, { description: 'The audit index of the transaction that made the change (commit order, gapless).' })
  auditIndex: number;

  @Field({ description: 'CREATED, ATTESTED (a new statement) or STATUS (a curation, dispute, revocation, expiry …).' })
  change: string;

  @Field(() => IndicatorStatus, { description: 'The status the change left the indicator in.' })
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

interface ChangeRow {
  idx: string;
  indicator_id: string;
  change: string;
  status: string;
  at: Date;
}

/**
 * The change feed (SPEC 7 `changes`): every change of an indicator the caller can see, ordered by
 * the audit index of its transaction — gapless and committed in order, so a cursor never skips a
 * change and stays valid across restarts. Nothing is ever removed: a revocation a year old is
 * still there for a member that comes back.
 */
@Injectable()
export class ChangesService {
  constructor(private readonly dataSource: DataSource) {}

  async page(caller: Caller, first: number | null | undefined, after: string | null | undefined): Promise<{ rows: ChangeRow[]; hasNextPage: boolean }> {
    const size = pageSize(first);
    const params: unknown[] = [];
    const where = [indicatorVisible(caller, params)];
    if (after) {
      const cursor = decodeCursor('changes', after);
      params.push(cursor.micros, cursor.id);
      where.push(`(c.idx, c.indicator_id) > ($${params.length - 1}::bigint, $${params.length}::uuid)`);
    }
    params.push(size + 1);
    const rows = (await this.dataSource.query(
      `SELECT c.idx::text AS idx, c.indicator_id, c.change, c.status, c.at
         FROM indicator_change c JOIN indicator i ON i.id = c.indicator_id
        WHERE ${where.join(' AND ')}
        ORDER BY c.idx, c.indicator_id LIMIT $${params.length}`,
      params,
    )) as ChangeRow[];
    return { rows: rows.slice(0, size), hasNextPage: rows.length > size };
  }
}

@Resolver(() => ChangeObject)
export class ChangesResolver {
  constructor(
    private readonly changeService: ChangesService,
    private readonly indicators: IndicatorsService,
  ) {}

  @Query(() => ChangeConnection, { description: 'The change feed, for clients that keep a local copy; pass the last cursor as after.' })
  @Authenticated()
  async changes(
    @CurrentCaller() caller: Caller,
    @Args('after', { nullable: true }) after?: string,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
  ): Promise<ChangeConnection> {
    const { rows, hasNextPage } = await this.changeService.page(caller, first, after);
    const edges = rows.map((r) => ({
      cursor: encodeCursor('changes', r.idx, r.indicator_id),
      node: Object.assign(new ChangeObject(), {
        auditIndex: Number(r.idx),
        change: r.change,
        status: r.status as IndicatorStatus,
        at: r.at,
        indicatorId: r.indicator_id,
      }),
    }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null } };
  }

  @ResolveField(() => IndicatorObject, { nullable: true, description: 'The indicator as it is now.' })
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: object, @Parent() change: ChangeObject): Promise<IndicatorObject | null> {
    const row = await this.indicators.get(req, caller, change.indicatorId);
    return row && IndicatorObject.from(row);
  }
}
