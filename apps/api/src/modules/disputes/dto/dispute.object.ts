import { Field, ID, ObjectType } from '@nestjs/graphql';
import { PageInfo } from '../../indicators/dto/indicator.object.js';
import type { DisputeRow } from '../dispute.rows.js';

@ObjectType('Dispute', { description: 'A member’s objection to an indicator, and a curator’s decision on it.' })
export class DisputeObject {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Why the member disputes the indicator.' })
  reason: string;

  @Field({ description: 'OPEN, UPHELD (the disputing member was right: the indicator is revoked) or REJECTED.' })
  status: string;

  @Field(() => String, { nullable: true, description: 'The curator’s note once resolved; null while OPEN.' })
  resolution: string | null;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  resolvedAt: Date | null;

  /** Resolved through loaders, with visibility. */
  indicatorId: string;
  memberId: string;

  static from(row: DisputeRow): DisputeObject {
    return Object.assign(new DisputeObject(), {
      id: row.id,
      reason: row.reason,
      status: row.status,
      resolution: row.resolution,
      createdAt: row.created_at,
      resolvedAt: row.resolved_at,
      indicatorId: row.indicator_id,
      memberId: row.member_id,
    });
  }
}

@ObjectType('DisputeEdge')
export class DisputeEdge {
  @Field()
  cursor: string;

  @Field(() => DisputeObject)
  node: DisputeObject;
}

@ObjectType('DisputeConnection')
export class DisputeConnection {
  @Field(() => [DisputeEdge])
  edges: DisputeEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}
