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
      'Puts a known-benign value on the exclusion list: statements about it are then refused (EXCLUDED). An existing indicator for it is left as it is and named in existingIndicator.',
  })
  @Roles(Role.CURATOR)
  async addExclusion(@CurrentCaller() caller: Caller, @Args('input') input: ExclusionInput): Promise<ExclusionObject> {
    return ExclusionObject.from(await this.service.add(caller, input));
  }

  @Mutation(() => ExclusionObject, { description: 'Takes an exclusion out of force (kept, with removedAt and removedBy).' })
  @Roles(Role.CURATOR)
  async removeExclusion(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<ExclusionObject> {
    return ExclusionObject.from(await this.service.remove(caller, id));
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
