import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('SubmitResult', { description: 'An accepted statement, its indicator and the exchange’s receipt.' })
export class SubmitResultObject {
  @Field({ description: 'Compact JWS by the exchange key over { statementSha256, indicatorId, acceptedAt, auditIndex }.' })
  receipt: string;

  /** Resolved per caller. */
  indicatorId: string;
  statementId: string;
}

@ObjectType('SubmitOutcome', { description: 'One item of submitStatements, in input order.' })
export class SubmitOutcomeObject {
  @Field()
  ok: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'Why it was refused: MALFORMED, BAD_HEADER, BAD_SIGNATURE, UNKNOWN_KEY, NOT_CONTRIBUTOR, MEMBER_SUSPENDED, FOREIGN_ISSUER, BAD_CLAIMS, UNKNOWN_MEMBER, INVALID_VALUE, EXCLUDED, REPLAY.',
  })
  code: string | null;

  @Field(() => String, { nullable: true, description: 'The check that failed, naming the claim or header member.' })
  error: string | null;

  @Field(() => SubmitResultObject, { nullable: true })
  result: SubmitResultObject | null;
}
