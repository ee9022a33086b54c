import { MemberEntity } from './modules/members/member.entity.js';
import { PrincipalKeyEntity } from './modules/principals/principal-key.entity.js';
import { PrincipalEntity } from './modules/principals/principal.entity.js';

/** Every TypeORM entity of the API; the schema itself comes from libs/database migrations. */
export const ENTITIES = [MemberEntity, PrincipalEntity, PrincipalKeyEntity];
