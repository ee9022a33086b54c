import { Args, Field, ID, InputType, Mutation, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { IsString } from 'class-validator';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { Role } from '../../common/roles.js';
import { CategoriesService, type CategoryRow } from './categories.service.js';

@ObjectType('Category', { description: 'A category of the vocabulary (README "Categories"): a statement’s category must be one in force.' })
export class CategoryObject {
  @Field({ description: 'The identifier statements carry, e.g. CSAM_COMMERCIAL.' })
  name: string;

  @Field()
  description: string;

  @Field()
  createdAt: Date;

  @Field(() => ID, { nullable: true, description: 'The principal that added it; null for the shipped vocabulary.' })
  createdBy: string | null;

  @Field(() => Date, { nullable: true, description: 'When it was retired (new statements refused; stored ones keep it); null while in force.' })
  retiredAt: Date | null;

  @Field(() => String, { nullable: true })
  retireReason: string | null;

  static from(row: CategoryRow): CategoryObject {
    return Object.assign(new CategoryObject(), {
      name: row.name,
      description: row.description,
      createdAt: row.created_at,
      createdBy: row.created_by,
      retiredAt: row.retired_at,
      retireReason: row.retire_reason,
    });
  }
}

@InputType()
export class CategoryInput {
  @Field({ description: 'Upper-case identifier (A-Z, 0-9, _; at most 64).' })
  @IsString({ message: 'must be a string' })
  name: string;

  @Field({ description: 'What it means, for the members choosing it.' })
  @IsString({ message: 'must be a string' })
  description: string;
}

@Resolver(() => CategoryObject)
export class CategoriesResolver {
  constructor(private readonly service: CategoriesService) {}

  @Query(() => [CategoryObject], { description: 'The category vocabulary, by name; retired ones too with includeRetired.' })
  @Authenticated()
  async categories(@Args('includeRetired', { type: () => Boolean, nullable: true }) includeRetired?: boolean | null): Promise<CategoryObject[]> {
    return (await this.service.list(includeRetired === true)).map((r) => CategoryObject.from(r));
  }

  @Mutation(() => CategoryObject, { description: 'Adds a category to the vocabulary (or puts a retired one back in force). Audited.' })
  @Roles(Role.CURATOR)
  async addCategory(@CurrentCaller() caller: Caller, @Args('input') input: CategoryInput): Promise<CategoryObject> {
    return CategoryObject.from(await this.service.add(caller, input.name, input.description));
  }

  @Mutation(() => CategoryObject, { description: 'Retires a category: new statements with it are refused; stored ones keep it. Audited.' })
  @Roles(Role.CURATOR)
  async retireCategory(@CurrentCaller() caller: Caller, @Args('name') name: string, @Args('reason') reason: string): Promise<CategoryObject> {
    return CategoryObject.from(await this.service.retire(caller, name, reason));
  }
}
