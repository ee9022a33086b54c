import { Field, ID, InputType } from '@nestjs/graphql';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsEnum, IsObject, IsString, IsUUID, Length, Matches } from 'class-validator';
import { GraphQLJSON } from 'graphql-scalars';
import { Role } from '../../../common/roles.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

@InputType()
export class CreatePrincipalInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'must be a UUID' })
  memberId: string;

  @Field()
  @Transform(trim)
  @IsString()
  @Length(1, 200, { message: 'must be 1 to 200 characters' })
  // Unpaired surrogates are not text (no UTF-8 form; RFC 8785 refuses them in the audit event).
  @Matches(/^[^\p{Cc}\p{Cs}]*$/u, {
    message: ({ value }) => (/\p{Cs}/u.test(String(value)) ? 'must not contain unpaired surrogates' : 'must not contain control characters'),
  })
  name: string;

  @Field(() => [Role])
  @ArrayMinSize(1, { message: 'must hold at least one role' })
  @ArrayMaxSize(5)
  @ArrayUnique({ message: 'must not repeat a role' })
  @IsEnum(Role, { each: true, message: `each must be one of ${Object.values(Role).join(', ')}` })
  roles: Role[];

  @Field(() => GraphQLJSON, { description: 'Public JWK: EC P-256 (ES256) or OKP Ed25519 (EdDSA); never a private key.' })
  @IsObject({ message: 'must be a JSON object (a public JWK)' })
  publicJwk: Record<string, unknown>;
}
