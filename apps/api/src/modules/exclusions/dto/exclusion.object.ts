import { Field, ID, ObjectType } from '@nestjs/graphql';
import { IndicatorKind } from '../../indicators/dto/indicator.enums.js';
import type { ExclusionRow } from '../exclusion.rows.js';
import type { IndicatorView } from '../../indicators/indicator.rows.js';

@ObjectType('Exclusion', {
  description: 'A known-benign value on the exclusion list (SPEC 4): statements about it are refused with code EXCLUDED and this reason.',
})
export class ExclusionObject {
  @Field(() => ID)
  id: string;

  @Field(() => IndicatorKind)
  kind: IndicatorKind;

  @Field(() => String, { nullable: true, description: 'Canonical network (ethereum for every EVM chain); null for kinds without one.' })
  network: string | null;

  @Field({ description: 'The canonical value (SPEC 3).' })
  value: string;

  @Field({ description: 'Lower-case hex SHA-256 of kind|network|canonical: the same key as the indicator’s.' })
  fingerprint: string;

  @Field()
  reason: string;

  @Field(() => ID, { description: 'The principal that added it.' })
  createdBy: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When it was removed; null while it is in force.' })
  removedAt: Date | null;

  @Field(() => ID, { nullable: true, description: 'The principal that removed it.' })
  removedBy: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'On addExclusion only: set when an indicator for this value can still match (and was not revoked with revokeMatching), saying so and how to revoke it.',
  })
  warning: string | null;

  /** On addExclusion with revokeMatching: the indicator it revoked (resolved as revokedIndicator). */
  revoked?: IndicatorView | null;

  static from(row: ExclusionRow, added?: { warning: string | null; revokedIndicator: IndicatorView | null }): ExclusionObject {
    return Object.assign(new ExclusionObject(), {
      id: row.id,
      kind: row.kind as IndicatorKind,
      network: row.network === '' ? null : row.network,
      value: row.value,
      fingerprint: row.fingerprint,
      reason: row.reason,
      createdBy: row.created_by,
      createdAt: row.created_at,
      removedAt: row.removed_at,
      removedBy: row.removed_by,
      warning: added?.warning ?? null,
      revoked: added?.revokedIndicator ?? null,
    });
  }
}
