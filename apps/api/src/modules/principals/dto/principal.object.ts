import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { Role } from '../../../common/roles.js';
import { MemberObject } from '../../members/dto/member.object.js';
import { KeyStatus, type PrincipalKeyEntity } from '../principal-key.entity.js';
import type { PrincipalEntity } from '../principal.entity.js';

registerEnumType(KeyStatus, { name: 'KeyStatus' });

@ObjectType('PrincipalKey', { description: 'A public key of a principal; kid is its RFC 7638 thumbprint.' })
export class PrincipalKeyObject {
  @Field(() => ID)
  kid: string;

  @Field()
  alg: string;

  @Field(() => KeyStatus)
  status: KeyStatus;

  @Field(() => GraphQLJSON)
  publicJwk: Record<string, unknown>;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When a request last authenticated with this key (to the minute).' })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;

  @Field(() => String, { nullable: true })
  revokedReason: string | null;

  static from(key: PrincipalKeyEntity): PrincipalKeyObject {
    return Object.assign(new PrincipalKeyObject(), {
      kid: key.kid,
      alg: key.alg,
      status: key.status,
      publicJwk: { ...key.publicJwk },
      createdAt: key.createdAt,
      lastUsedAt: key.lastUsedAt,
      revokedAt: key.revokedAt,
      revokedReason: key.revokedReason,
    });
  }
}

@ObjectType('Principal', { description: 'An API client or person of a member (SPEC 1).' })
export class PrincipalObject {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field(() => [Role])
  roles: Role[];

  @Field(() => MemberObject)
  member: MemberObject;

  @Field(() => [PrincipalKeyObject])
  keys: PrincipalKeyObject[];

  @Field(() => Boolean, {
    nullable: true,
    description: 'A disabled principal is refused, whatever its keys. Null for another member’s principal (unless you may see its internals).',
  })
  disabled: boolean | null;

  @Field(() => Date, { nullable: true, description: 'Null for another member’s principal (unless you may see its internals).' })
  createdAt: Date | null;

  /**
   * Another member's principal as a statement's issuer shows it: its name and member, and the key
   * that signed (kid, algorithm, public JWK, status) — no roles, no disabled flag, no key's last
   * use, revocation time or reason (issue 16).
   */
  static asIssuer(entity: PrincipalEntity, signingKid: string): PrincipalObject {
    const full = PrincipalObject.from(entity);
    return Object.assign(full, {
      roles: [],
      disabled: null,
      createdAt: null,
      keys: full.keys
        .filter((k) => k.kid === signingKid)
        .map((k) => Object.assign(k, { lastUsedAt: null, revokedAt: null, revokedReason: null })),
    });
  }

  /** Needs member and keys loaded. */
  static from(entity: PrincipalEntity): PrincipalObject {
    if (!entity.member || !entity.keys) throw new Error('PrincipalObject.from needs member and keys');
    return Object.assign(new PrincipalObject(), {
      id: entity.id,
      name: entity.name,
      roles: [...entity.roles],
      member: MemberObject.from(entity.member),
      keys: [...entity.keys].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()).map(PrincipalKeyObject.from),
      disabled: entity.disabled,
      createdAt: entity.createdAt,
    });
  }
}
