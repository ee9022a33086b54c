import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IndicatorObject } from '../../indicators/dto/indicator.object.js';
import { IndicatorKind, IndicatorStatus } from '../../indicators/dto/indicator.enums.js';

@InputType('ScreenInput', { description: 'Either kind + value (+ network), or fingerprint alone; anything else is that item’s error.' })
export class ScreenInput {
  @Field(() => IndicatorKind, { nullable: true })
  kind?: IndicatorKind | null;

  @Field(() => String, { nullable: true, description: 'The value; a defanged domain or URL (example[.]com, hxxps://…) is screened as the value it stands for.' })
  value?: string | null;

  @Field(() => String, { nullable: true, description: 'Wallet network, any case, or its ticker (btc, eth, ltc, bch, xmr, sol, trx); an EVM chain name screens the ethereum key (matchedVia EVM_ADDRESS).' })
  network?: string | null;

  @Field(() => String, { nullable: true, description: 'A fingerprint (SPEC 3) instead of a value.' })
  fingerprint?: string | null;
}

@ObjectType('ScreenResult')
export class ScreenResultObject {
  @Field({ description: 'The value or fingerprint given.' })
  input: string;

  @Field(() => IndicatorKind, { nullable: true })
  kind: IndicatorKind | null;

  @Field(() => String, { nullable: true, description: 'The canonical network screened (btc → bitcoin, any EVM chain → ethereum); as given when the input is invalid.' })
  network: string | null;

  @Field(() => String, { nullable: true, description: 'The canonical form screened (SPEC 3).' })
  normalized: string | null;

  @Field(() => String, { nullable: true, description: 'The fingerprint screened.' })
  fingerprint: string | null;

  @Field()
  valid: boolean;

  @Field(() => String, { nullable: true, description: 'Why the input is invalid (the field and the reason).' })
  error: string | null;

  @Field({ description: 'True for a visible ACTIVE or DISPUTED indicator (and PENDING for curators).' })
  match: boolean;

  @Field(() => String, { nullable: true, description: 'EXACT, FINGERPRINT, EVM_ADDRESS, PARENT_DOMAIN or URL_DOMAIN.' })
  matchedVia: string | null;

  @Field(() => String, { nullable: true, description: 'The key that matched (a parent domain, the URL’s host …).' })
  matchedValue: string | null;

  @Field({ description: 'The match is PENDING review (curators only see those).' })
  pending: boolean;

  @Field({ description: 'The match is DISPUTED: it still matches, and says so.' })
  disputed: boolean;

  @Field(() => IndicatorObject, { nullable: true })
  indicator: IndicatorObject | null;
}

@ObjectType('PrefixMatch')
export class PrefixMatchObject {
  @Field()
  fingerprint: string;

  @Field(() => IndicatorStatus)
  status: IndicatorStatus;
}
