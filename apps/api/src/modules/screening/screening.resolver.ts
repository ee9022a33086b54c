import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { Role } from '../../common/roles.js';
import { IndicatorKind, IndicatorStatus } from '../indicators/dto/indicator.enums.js';
import { IndicatorObject } from '../indicators/dto/indicator.object.js';
import { PrefixMatchObject, ScreenInput, ScreenResultObject } from './dto/screen.object.js';
import { type ScreenOutcome, ScreeningService } from './screening.service.js';

/** The outcome becomes the result in place (10,000 of them in a batch: no copies). */
function toObject(o: ScreenOutcome): ScreenResultObject {
  const result = o as unknown as ScreenResultObject;
  result.kind = (o.kind as IndicatorKind | null) ?? null;
  result.indicator = o.indicator ? IndicatorObject.summary(o.indicator) : null;
  return result;
}

@Resolver()
export class ScreeningResolver {
  constructor(private readonly screening: ScreeningService) {}

  @Query(() => ScreenResultObject, { description: 'Screens one value or fingerprint (SPEC 5).' })
  @Roles(Role.SCREENER, Role.CURATOR)
  async screen(@CurrentCaller() caller: Caller, @Args('input', { type: () => ScreenInput }) input: ScreenInput): Promise<ScreenResultObject> {
    const [outcome] = await this.screening.screen(caller, [input]);
    return toObject(outcome);
  }

  @Query(() => [ScreenResultObject], { description: 'Screens up to 10,000 values or fingerprints; results in input order.' })
  @Roles(Role.SCREENER, Role.CURATOR)
  async screenBatch(@CurrentCaller() caller: Caller, @Args('inputs', { type: () => [ScreenInput] }) inputs: ScreenInput[]): Promise<ScreenResultObject[]> {
    return (await this.screening.screen(caller, inputs)).map(toObject);
  }

  @Query(() => [PrefixMatchObject], {
    description: 'k-anonymous screening: the full fingerprints of visible matching indicators whose fingerprint starts with these 5 to 8 hex digits.',
  })
  @Roles(Role.SCREENER, Role.CURATOR)
  async screenByPrefix(
    @CurrentCaller() caller: Caller,
    @Args('prefix') prefix: string,
    @Args('padTo', { type: () => Int, nullable: true, description: 'Pad the answer with decoys to this many fingerprints (README: privacy).' })
    padTo?: number | null,
  ): Promise<PrefixMatchObject[]> {
    return (await this.screening.byPrefix(caller, prefix, padTo)).map((r) =>
      Object.assign(new PrefixMatchObject(), { fingerprint: r.fingerprint, status: r.status as IndicatorStatus }),
    );
  }
}

