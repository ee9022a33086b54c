import { Injectable } from '@nestjs/common';
import { JwkError, parsePublicJwk, type PublicJwk } from '@app/signing';
import { DataSource, type EntityManager, In } from 'typeorm';
import { type Caller, hasRole } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { COORDINATOR_ONLY_ROLES, MemberKind, Role } from '../../common/roles.js';
import { isUniqueViolation, text, uuid } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import { MemberEntity } from '../members/member.entity.js';
import { MembersService } from '../members/members.service.js';
import type { CreatePrincipalInput } from './dto/principal.input.js';
import { KeyStatus, PrincipalKeyEntity } from './principal-key.entity.js';
import { PrincipalEntity } from './principal.entity.js';

/** A key id as Cordon issues them: an RFC 7638 thumbprint, base64url. */
const KID = /^[A-Za-z0-9_-]{1,128}$/;

const WITH_MEMBER_AND_KEYS = { member: true, keys: true } as const;

/** An active key as a statement's verification needs it. */
export interface SigningKey {
  kid: string;
  alg: string;
  public_jwk: PublicJwk;
  principal_id: string;
  roles: string[];
  disabled: boolean;
  member_id: string;
  member_kind: MemberKind;
  suspended: boolean;
}

@Injectable()
export class PrincipalsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly members: MembersService,
    private readonly clock: Clock,
    private readonly auth: AuthService,
  ) {}

  async me(caller: Caller): Promise<PrincipalEntity> {
    const principal = await this.load(this.dataSource.manager, caller.principalId);
    if (!principal) throw CordonException.unauthenticated();
    return principal;
  }

  /** A principal the caller may see (own member, or coordinator ADMIN/AUDITOR), else null. */
  async get(caller: Caller, id: string): Promise<PrincipalEntity | null> {
    const principal = await this.load(this.dataSource.manager, uuid('id', id));
    return principal && this.members.canSeeInternals(caller, principal.memberId) ? principal : null;
  }

  /** Principals by id with member and keys, in the order asked (for request loaders; no scoping). */
  async loadMany(ids: readonly string[]): Promise<(PrincipalEntity | undefined)[]> {
    const rows = await this.dataSource.getRepository(PrincipalEntity).find({ where: { id: In([...ids]) }, relations: WITH_MEMBER_AND_KEYS });
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id));
  }

  /**
   * The active keys of these kids with what a signature by them needs checked: the principal's
   * roles and standing, and its member's kind and standing (statements, SPEC 4).
   */
  async signingKeys(kids: string[]): Promise<Map<string, SigningKey>> {
    if (kids.length === 0) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT k.kid, k.alg, k.public_jwk, p.id AS principal_id, p.roles, p.disabled,
              m.id AS member_id, m.kind AS member_kind, m.suspended
         FROM principal_key k JOIN principal p ON p.id = k.principal_id JOIN member m ON m.id = p.member_id
        WHERE k.kid = ANY($1) AND k.status = 'ACTIVE'`,
      [kids],
    )) as SigningKey[];
    return new Map(rows.map((r) => [r.kid, r]));
  }

  canSeePrincipalsOf(caller: Caller, memberId: string): boolean {
    return this.members.canSeeInternals(caller, memberId);
  }

  /** The principals of several members, in the order asked (for request loaders; no scoping). */
  async byMembers(memberIds: readonly string[]): Promise<PrincipalEntity[][]> {
    const rows = await this.dataSource.getRepository(PrincipalEntity).find({
      where: { memberId: In([...memberIds]) },
      relations: WITH_MEMBER_AND_KEYS,
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return memberIds.map((id) => rows.filter((r) => r.memberId === id));
  }

  async create(caller: Caller, input: CreatePrincipalInput): Promise<PrincipalEntity> {
    const jwk = await this.publicJwk('input.publicJwk', input.publicJwk);
    try {
      return await this.dataSource.transaction(async (em) => {
        const member = await em.getRepository(MemberEntity).findOneBy({ id: input.memberId.toLowerCase() });
        if (!member) throw CordonException.badInput('input.memberId', 'no such member');
        this.checkRoles('input.roles', member, input.roles);
        const principal = await em.getRepository(PrincipalEntity).save(
          em.getRepository(PrincipalEntity).create({
            memberId: member.id,
            name: input.name,
            roles: sortRoles(input.roles),
            disabled: false,
          }),
        );
        await this.insertKey(em, principal.id, jwk, 'input.publicJwk');
        await this.audit.record(em, {
          action: 'principal.create',
          actor: caller,
          subjectId: principal.id,
          subjectMemberId: member.id,
          data: { memberId: member.id, name: principal.name, roles: principal.roles, kid: jwk.kid, alg: jwk.alg },
        });
        return (await this.load(em, principal.id))!;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'principal_member_name_uq')) {
        throw CordonException.badInput('input.name', 'a principal with this name already exists in the member');
      }
      throw err;
    }
  }

  /** Key rotation: an ADMIN for anyone, any principal for itself. */
  async addKey(caller: Caller, principalId: string, publicJwk: unknown): Promise<PrincipalKeyEntity> {
    const id = uuid('principalId', principalId);
    this.mayManageKeysOf(caller, id);
    const jwk = await this.publicJwk('publicJwk', publicJwk);
    return this.dataSource.transaction(async (em) => {
      const principal = await em.getRepository(PrincipalEntity).findOneBy({ id });
      if (!principal) throw CordonException.badInput('principalId', 'no such principal');
      const key = await this.insertKey(em, principal.id, jwk);
      await this.audit.record(em, {
        action: 'principal_key.add',
        actor: caller,
        subjectId: principal.id,
        subjectMemberId: principal.memberId,
        data: { kid: jwk.kid, alg: jwk.alg },
      });
      return key;
    });
  }

  /** An ADMIN may revoke any key; a principal its own, but not its last active one. */
  async revokeKey(caller: Caller, kid: string, reason: string): Promise<PrincipalKeyEntity> {
    const why = text('reason', reason);
    return this.auth.credentialTransaction(async (em) => {
      // A kid is a base64url thumbprint: anything else names no key (and a NUL would fail the query).
      const key = KID.test(kid) ? await em.getRepository(PrincipalKeyEntity).findOne({ where: { kid }, lock: { mode: 'pessimistic_write' } }) : null;
      // A non-admin gets the same answer whether or not the kid exists: no probing of other members' keys.
      this.mayManageKeysOf(caller, key?.principalId ?? null, 'kid');
      if (!key) throw CordonException.notFound('key', 'kid');
      if (key.status === KeyStatus.REVOKED) throw CordonException.badInput('kid', 'the key is already revoked');
      // Serialises revocations of one principal's keys, so two concurrent ones cannot both see
      // "another key is still active" and leave it with none.
      const [owner] = (await em.query('SELECT member_id FROM principal WHERE id = $1 FOR UPDATE', [key.principalId])) as { member_id: string }[];
      if (key.principalId === caller.principalId) {
        const active = await em.getRepository(PrincipalKeyEntity).countBy({ principalId: key.principalId, status: KeyStatus.ACTIVE });
        if (active <= 1) throw CordonException.badInput('kid', 'this is your last active key; add a new key before revoking it');
      }
      Object.assign(key, { status: KeyStatus.REVOKED, revokedReason: why, revokedAt: this.clock.now() });
      await em.getRepository(PrincipalKeyEntity).save(key);
      await this.audit.record(em, {
        action: 'principal_key.revoke',
        actor: caller,
        subjectId: key.principalId,
        subjectMemberId: owner.member_id,
        data: { kid: key.kid, reason: why },
      });
      return key;
    });
  }

  async setRoles(caller: Caller, id: string, roles: Role[]): Promise<PrincipalEntity> {
    const principalId = uuid('id', id);
    if (roles.length === 0) throw CordonException.badInput('roles', 'must hold at least one role');
    if (new Set(roles).size !== roles.length) throw CordonException.badInput('roles', 'must not repeat a role');
    if (principalId === caller.principalId && !roles.includes(Role.ADMIN)) {
      throw CordonException.badInput('roles', 'you cannot remove ADMIN from yourself; ask another administrator');
    }
    return this.change(caller, principalId, 'principal.set_roles', async (em, principal) => {
      const member = await em.getRepository(MemberEntity).findOneByOrFail({ id: principal.memberId });
      this.checkRoles('roles', member, roles);
      const before = principal.roles;
      principal.roles = sortRoles(roles);
      return { before, after: principal.roles };
    });
  }

  async disable(caller: Caller, id: string, reason: string): Promise<PrincipalEntity> {
    const principalId = uuid('id', id);
    const why = text('reason', reason);
    if (principalId === caller.principalId) throw CordonException.badInput('id', 'you cannot disable yourself');
    return this.change(caller, principalId, 'principal.disable', async (_em, principal) => {
      if (principal.disabled) throw CordonException.badInput('id', 'the principal is already disabled');
      Object.assign(principal, { disabled: true, disabledReason: why, disabledAt: this.clock.now() });
      return { reason: why };
    });
  }

  async enable(caller: Caller, id: string): Promise<PrincipalEntity> {
    return this.change(caller, uuid('id', id), 'principal.enable', async (_em, principal) => {
      if (!principal.disabled) throw CordonException.badInput('id', 'the principal is not disabled');
      Object.assign(principal, { disabled: false, disabledReason: null, disabledAt: null });
      return {};
    });
  }

  /** Locks a principal, applies a change, saves it and audits it in one transaction. */
  private change(
    caller: Caller,
    id: string,
    action: string,
    apply: (em: EntityManager, principal: PrincipalEntity) => Promise<Record<string, unknown>>,
  ): Promise<PrincipalEntity> {
    return this.auth.credentialTransaction(async (em) => {
      const principal = await em.getRepository(PrincipalEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!principal) throw CordonException.notFound('principal', 'id');
      const data = await apply(em, principal);
      await em.getRepository(PrincipalEntity).save(principal);
      await this.audit.record(em, { action, actor: caller, subjectId: principal.id, subjectMemberId: principal.memberId, data });
      return (await this.load(em, principal.id))!;
    });
  }

  private mayManageKeysOf(caller: Caller, principalId: string | null, field = 'principalId'): void {
    if (principalId === caller.principalId || hasRole(caller, Role.ADMIN)) return;
    // Looks the same whether or not the principal exists: no probing of other members.
    throw CordonException.forbidden(`${field}: only an ADMIN or the principal itself may manage its keys`);
  }

  private checkRoles(field: string, member: MemberEntity, roles: Role[]): void {
    const restricted = roles.filter((r) => COORDINATOR_ONLY_ROLES.includes(r));
    if (restricted.length > 0 && member.kind !== MemberKind.COORDINATOR) {
      throw CordonException.badInput(field, `${restricted.join(' and ')} may only be held by principals of COORDINATOR members`);
    }
  }

  private async publicJwk(field: string, input: unknown): Promise<PublicJwk> {
    try {
      return await parsePublicJwk(input, field);
    } catch (err) {
      if (err instanceof JwkError) throw CordonException.badInput(err.path, err.reason);
      throw err;
    }
  }

  private async insertKey(em: EntityManager, principalId: string, jwk: PublicJwk, field = 'publicJwk'): Promise<PrincipalKeyEntity> {
    const inserted = (await em.query(
      `INSERT INTO principal_key (kid, principal_id, alg, public_jwk, status)
       VALUES ($1, $2, $3, $4, 'ACTIVE') ON CONFLICT (kid) DO NOTHING RETURNING kid`,
      [jwk.kid, principalId, jwk.alg, JSON.stringify(jwk)],
    )) as unknown[];
    if (inserted.length === 0) throw CordonException.badInput(field, `this key (kid ${jwk.kid}) is already registered`);
    return em.getRepository(PrincipalKeyEntity).findOneByOrFail({ kid: jwk.kid });
  }

  private load(em: EntityManager, id: string): Promise<PrincipalEntity | null> {
    return em.getRepository(PrincipalEntity).findOne({ where: { id }, relations: WITH_MEMBER_AND_KEYS });
  }
}

function sortRoles(roles: Role[]): Role[] {
  const order = Object.values(Role);
  return [...new Set(roles)].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}
