import { Field, ID, ObjectType } from '@nestjs/graphql';
import { MemberKind } from '../../../common/roles.js';
import type { MemberEntity } from '../member.entity.js';

@ObjectType('Member', { description: 'An organisation of the coalition (SPEC 1).' })
export class MemberObject {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field(() => MemberKind)
  kind: MemberKind;

  @Field({ description: 'A suspended member’s principals are refused.' })
  suspended: boolean;

  @Field(() => Date, { nullable: true })
  suspendedAt: Date | null;

  @Field()
  createdAt: Date;

  /** Not a GraphQL field: the reason is resolved with a visibility check. */
  suspendedReason: string | null;

  static from(entity: MemberEntity): MemberObject {
    return Object.assign(new MemberObject(), {
      id: entity.id,
      name: entity.name,
      kind: entity.kind,
      suspended: entity.suspended,
      suspendedAt: entity.suspendedAt,
      suspendedReason: entity.suspendedReason,
      createdAt: entity.createdAt,
    });
  }
}
