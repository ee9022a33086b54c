import { registerEnumType } from '@nestjs/graphql';

/** SPEC 1. CURATOR and ADMIN only for principals of COORDINATOR members. */
export enum Role {
  SCREENER = 'SCREENER',
  CONTRIBUTOR = 'CONTRIBUTOR',
  CURATOR = 'CURATOR',
  AUDITOR = 'AUDITOR',
  ADMIN = 'ADMIN',
}
export const COORDINATOR_ONLY_ROLES: readonly Role[] = [Role.CURATOR, Role.ADMIN];

export enum MemberKind {
  CARD_PROCESSOR = 'CARD_PROCESSOR',
  CRYPTO_EXCHANGE = 'CRYPTO_EXCHANGE',
  COORDINATOR = 'COORDINATOR',
}

registerEnumType(Role, { name: 'Role', description: 'What a principal may do (SPEC 1).' });
registerEnumType(MemberKind, { name: 'MemberKind' });
