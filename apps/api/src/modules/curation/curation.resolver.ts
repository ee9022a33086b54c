import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { Role } from '../../common/roles.js';
import { IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import { IndicatorConnection, IndicatorObject } from '../indicators/dto/indicator.object.js';
import { ReviewDecision, ReviewItemInput, ReviewOutcomeObject } from './dto/curation.types.js';
import { encodeCursor } from '../../common/paging.js';
import { CurationService, MAX_REVIEW_ITEMS } from './curation.service.js';

const CONFLICT_NOTE = 'With expectedStatus or expectedVersion, a decision on an indicator that changed meanwhile is refused with CONFLICT and changes nothing.';

/** Curation (SPEC 1 CURATOR, only principals of COORDINATOR members hold it). */
@Resolver()
export class CurationResolver {
  constructor(private readonly curation: CurationService) {}

  @Mutation(() => IndicatorObject, { description: `APPROVE (PENDING → ACTIVE) or REJECT (PENDING → REJECTED) the indicator’s PENDING statements. ${CONFLICT_NOTE}` })
  @Roles(Role.CURATOR)
  async reviewIndicator(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('decision', { type: () => ReviewDecision }) decision: ReviewDecision,
    @Args('note', { type: () => String, nullable: true }) note?: string | null,
    @Args('expectedStatus', { type: () => IndicatorStatus, nullable: true }) expectedStatus?: IndicatorStatus | null,
    @Args('expectedVersion', { type: () => Int, nullable: true }) expectedVersion?: number | null,
  ): Promise<IndicatorObject> {
    return IndicatorObject.from(await this.curation.review(caller, { id, decision, note, expectedStatus, expectedVersion }));
  }

  @Mutation(() => IndicatorObject, {
    description: `Revokes an indicator (kept on record); members that reported it ACTIONED are notified. ${CONFLICT_NOTE}`,
  })
  @Roles(Role.CURATOR)
  async revokeIndicator(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('reason', { type: () => String }) reason: string,
    @Args('expectedVersion', { type: () => Int, nullable: true }) expectedVersion?: number | null,
    @Args('expectedStatus', { type: () => IndicatorStatus, nullable: true }) expectedStatus?: IndicatorStatus | null,
  ): Promise<IndicatorObject> {
    return IndicatorObject.from(await this.curation.revoke(caller, id, reason, { expectedVersion, expectedStatus }));
  }

  @Mutation(() => IndicatorObject, { description: `Expires an indicator now (PENDING, ACTIVE or DISPUTED → EXPIRED). ${CONFLICT_NOTE}` })
  @Roles(Role.CURATOR)
  async expireIndicator(
    @CurrentCaller() caller: Caller,
    @Args('id', { type: () => ID }) id: string,
    @Args('expectedVersion', { type: () => Int, nullable: true }) expectedVersion?: number | null,
    @Args('expectedStatus', { type: () => IndicatorStatus, nullable: true }) expectedStatus?: IndicatorStatus | null,
  ): Promise<IndicatorObject> {
    return IndicatorObject.from(await this.curation.expire(caller, id, { expectedVersion, expectedStatus }));
  }

  @Mutation(() => [ReviewOutcomeObject], {
    description: `Reviews many indicators: one outcome per item, in input order; each item is its own transaction, so one refused item never fails the rest. At most ${MAX_REVIEW_ITEMS} items.`,
  })
  @Roles(Role.CURATOR)
  async reviewIndicators(
    @CurrentCaller() caller: Caller,
    @Args('items', { type: () => [ReviewItemInput] }) items: ReviewItemInput[],
  ): Promise<ReviewOutcomeObject[]> {
    const results = await this.curation.reviewMany(caller, items);
    return results.map((r) =>
      Object.assign(
        new ReviewOutcomeObject(),
        r.ok
          ? { id: r.id, ok: true, code: null, error: null, indicator: IndicatorObject.from(r.indicator) }
          : { id: r.id, ok: false, code: r.code, error: r.error, indicator: null },
      ),
    );
  }

  @Query(() => IndicatorConnection, { description: 'Indicators with a PENDING statement waiting for a decision, the longest waiting first (Relay connection).' })
  @Roles(Role.CURATOR)
  async reviewQueue(
    @CurrentCaller() caller: Caller,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<IndicatorConnection> {
    const { rows, hasNextPage } = await this.curation.queue(caller, first, after);
    const edges = rows.map((row) => ({ cursor: encodeCursor('queue-v2', row.since_us, row.id), node: IndicatorObject.from(row) }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null } };
  }
}
