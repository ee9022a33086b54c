import { Field, InputType } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { IsEnum, IsString, Length, Matches } from 'class-validator';
import { MemberKind } from '../../../common/roles.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

@InputType()
export class CreateMemberInput {
  @Field()
  @Transform(trim)
  @IsString()
  @Length(1, 200, { message: 'must be 1 to 200 characters' })
  // Unpaired surrogates are not text (no UTF-8 form; RFC 8785 refuses them in the audit event).
  @Matches(/^[^\p{Cc}\p{Cs}]*$/u, {
    message: ({ value }) => (/\p{Cs}/u.test(String(value)) ? 'must not contain unpaired surrogates' : 'must not contain control characters'),
  })
  name: string;

  @Field(() => MemberKind)
  @IsEnum(MemberKind, { message: `must be one of ${Object.values(MemberKind).join(', ')}` })
  kind: MemberKind;
}
