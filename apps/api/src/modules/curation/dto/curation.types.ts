import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IndicatorStatus } from '../../indicators/dto/indicator.enums.js';
import { IndicatorObject } from '../../indicators/dto/indicator.object.js';

/** A curator's decision on a PENDING indicator (SPEC 7): APPROVE makes it ACTIVE, REJECT makes it REJECTED. */
export enum ReviewDecision {
  APPROVE = 'APPROVE',
  REJECT = 'REJECT',
}

registerEnumType(ReviewDecision, { name: 'ReviewDecision', description: 'APPROVE (PENDING → ACTIVE) or REJECT (PENDING → REJECTED).' });

/**
 * One item of reviewIndicators. Deliberately without class-validator rules: a bad item is that
 * item's outcome, never a refusal of the whole call.
 */
@InputType('ReviewItemInput', { description: 'One decision of a bulk review.' })
export class ReviewItemInput {
  @Field(() => ID, { description: 'The indicator’s id.' })
  id: string;

  @Field(() => ReviewDecision)
  decision: ReviewDecision;

  @Field(() => String, { nullable: true })
  note?: string | null;

  @Field(() => IndicatorStatus, { nullable: true, description: 'Refused with CONFLICT unless the indicator still has this status.' })
  expectedStatus?: IndicatorStatus | null;

  @Field(() => Int, { nullable: true, description: 'Refused with CONFLICT unless the indicator is still at this version.' })
  expectedVersion?: number | null;
}

@ObjectType('ReviewOutcome', { description: 'What one item of reviewIndicators did, in input order.' })
export class ReviewOutcomeObject {
  @Field(() => ID, { description: 'The id as given.' })
  id: string;

  @Field()
  ok: boolean;

  @Field(() => String, { nullable: true, description: 'Why it was refused: BAD_USER_INPUT, NOT_FOUND, CONFLICT.' })
  code: string | null;

  @Field(() => String, { nullable: true })
  error: string | null;

  @Field(() => IndicatorObject, { nullable: true, description: 'The indicator after the decision.' })
  indicator: IndicatorObject | null;
}
