import { Field, InputType } from '@nestjs/graphql';
import { IsBoolean, IsEnum, IsOptional, IsString } from 'class-validator';
import { IndicatorKind } from '../../indicators/dto/indicator.enums.js';

/** SPEC 8: `input ExclusionInput { kind: IndicatorKind!, network: String, value: String!, reason: String! }`. */
@InputType()
export class ExclusionInput {
  @Field(() => IndicatorKind)
  @IsEnum(IndicatorKind, { message: `must be one of ${Object.values(IndicatorKind).join(', ')}` })
  kind: IndicatorKind;

  @Field(() => String, { nullable: true, description: 'WALLET_ADDRESS only; detected from the format when omitted (a ticker such as btc is accepted; an EVM alias means ethereum).' })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  network?: string | null;

  @Field({ description: 'The value as for a statement; stored in canonical form (a merchant id as "ACQUIRER:MID").' })
  @IsString({ message: 'must be a string' })
  value: string;

  @Field({ description: 'Why the value is benign; statements about it are refused with this reason.' })
  @IsString({ message: 'must be a string' })
  reason: string;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Also revoke the indicator listed for this value (ACTIVE, DISPUTED or PENDING), in the same transaction, with the exclusion’s reason. Default false: the indicator is left as it is and the answer warns.',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  revokeMatching?: boolean | null;
}
