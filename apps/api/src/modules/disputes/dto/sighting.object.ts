import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import type { SightingRow } from '../dispute.rows.js';

export enum SightingKind {
  SEEN = 'SEEN',
  FALSE_POSITIVE = 'FALSE_POSITIVE',
  ACTIONED = 'ACTIONED',
}

registerEnumType(SightingKind, {
  name: 'SightingKind',
  description: 'What a member did with an indicator: saw it in its traffic, found it wrong, or acted on it.',
  valuesMap: {
    SEEN: { description: 'Seen in the member’s own traffic.' },
    FALSE_POSITIVE: { description: 'The match was wrong for the member.' },
    ACTIONED: { description: 'The member acted on it (blocked, froze, reported): told when it is revoked or a dispute on it is upheld.' },
  },
});

@ObjectType('Sighting', { description: 'A member’s feedback on an indicator.' })
export class SightingObject {
  @Field(() => ID)
  id: string;

  @Field(() => SightingKind)
  kind: SightingKind;

  @Field(() => String, { nullable: true })
  note: string | null;

  @Field()
  createdAt: Date;

  @Field(() => Int, {
    nullable: true,
    description: 'On Indicator.sightingReports: how many times the member reported this kind (note and createdAt are of the latest); null elsewhere.',
  })
  reportCount: number | null;

  /** Resolved through the indicator loader, with visibility. */
  indicatorId: string;
  memberId: string;

  static from(row: SightingRow & { report_count?: number }): SightingObject {
    return Object.assign(new SightingObject(), {
      id: row.id,
      kind: row.kind as SightingKind,
      note: row.note,
      createdAt: row.created_at,
      indicatorId: row.indicator_id,
      memberId: row.member_id,
      reportCount: row.report_count ?? null,
    });
  }
}

@ObjectType('SightingCounts', { description: 'Sightings reported on an indicator, by kind: each member counts once per kind, however often it repeats a report.' })
export class SightingCountsObject {
  @Field(() => Int)
  seen: number;

  @Field(() => Int)
  falsePositive: number;

  @Field(() => Int)
  actioned: number;
}
