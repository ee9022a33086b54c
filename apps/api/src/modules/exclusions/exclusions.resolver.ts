import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { Role } from '../../common/roles.js';
import { IndicatorObject } from '../indicators/dto/indicator.object.js';
import { ExclusionInput } from './dto/exclusion.input.js';
import { ExclusionObject } from './dto/exclusion.object.js';
import { ExclusionsService } from './exclusions.service.js';

@Resolver(() => ExclusionObject)
export class ExclusionsResolver {
  constructor(private readonly service: ExclusionsService) {}

  @Query(() => [ExclusionObject], { description: 'The exclusion list, oldest first; removed entries too with includeRemoved.' })
  @Roles(Role.CURATOR)
  async exclusions(
    @CurrentCaller() caller: Caller,
    @Args('includeRemoved', { type: () => Boolean, nullable: true }) includeRemoved?: boolean | null,
  ): Promise<ExclusionObject[]> {
    return (await this.service.list(caller, includeRemoved === true)).map((row) => ExclusionObject.from(row));
  }

  @Mutation(() => ExclusionObject, {
    description:
      'Puts a known-benign value on the exclusion list: statements about it are then refused (EXCLUDED). An existing indicator for it is named in existingIndicator and left as it is (with a warning while it still matches), or revoked in the same transaction with input.revokeMatching: true (then in revokedIndicator).',
  })
  @Roles(Role.CURATOR)
  async addExclusion(@CurrentCaller() caller: Caller, @Args('input') input: ExclusionInput): Promise<ExclusionObject> {
    const added = await this.service.add(caller, input);
    return ExclusionObject.from(added.row, added);
  }

  @Mutation(() => ExclusionObject, { description: 'Takes an exclusion out of force (kept, with removedAt and removedBy).' })
  @Roles(Role.CURATOR)
  async removeExclusion(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<ExclusionObject> {
    return ExclusionObject.from(await this.service.remove(caller, id));
  }

  @ResolveField(() => IndicatorObject, {
    nullable: true,
    description: 'On addExclusion with revokeMatching: the indicator this call revoked, as it now stands; null otherwise.',
  })
  @Roles(Role.CURATOR)
  revokedIndicator(@Parent() exclusion: ExclusionObject): IndicatorObject | null {
    return exclusion.revoked ? IndicatorObject.from(exclusion.revoked) : null;
  }

  @ResolveField(() => IndicatorObject, {
    nullable: true,
    description: 'The indicator with the same fingerprint, if one exists: the exclusion neither deletes nor changes it.',
  })
  @Roles(Role.CURATOR)
  async existingIndicator(@CurrentCaller() caller: Caller, @Context('req') req: object, @Parent() exclusion: ExclusionObject): Promise<IndicatorObject | null> {
    const row = await this.service.indicatorByFingerprint(req, caller, exclusion.fingerprint);
    return row ? IndicatorObject.from(row) : null;
  }
}
