import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type Caller, hasRole, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { Role } from '../../common/roles.js';
import { isUniqueViolation, optionalText, text, uuid } from '../../common/validate.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import type { CreateMemberInput } from './dto/member.input.js';
import { MemberEntity } from './member.entity.js';

@Injectable()
export class MembersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly auth: AuthService,
  ) {}

  /** Member directory: every authenticated principal may read ids, names, kinds (needed for shareWith). */
  list(): Promise<MemberEntity[]> {
    return this.dataSource.getRepository(MemberEntity).find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Which of these member ids exist (shareWith must name members). */
  async existing(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = (await this.dataSource.query('SELECT id FROM member WHERE id = ANY($1::uuid[])', [ids])) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  async get(id: string, field = 'id'): Promise<MemberEntity | null> {
    return this.dataSource.getRepository(MemberEntity).findOneBy({ id: uuid(field, id) });
  }

  /** Who may see a member's principals and keys: its own principals, and coordinators' ADMIN/AUDITOR. */
  canSeeInternals(caller: Caller, memberId: string): boolean {
    return caller.memberId === memberId || (isCoordinator(caller) && hasRole(caller, Role.ADMIN, Role.AUDITOR));
  }

  async create(caller: Caller, input: CreateMemberInput): Promise<MemberEntity> {
    try {
      return await this.dataSource.transaction(async (em) => {
        const member = await em.getRepository(MemberEntity).save(
          em.getRepository(MemberEntity).create({ name: input.name, kind: input.kind, suspended: false }),
        );
        await this.audit.record(em, {
          action: 'member.create',
          actor: caller,
          subjectId: member.id,
          subjectMemberId: member.id,
          data: { name: member.name, kind: member.kind },
        });
        return member;
      });
    } catch (err) {
      if (isUniqueViolation(err, 'member_name_uq')) throw CordonException.badInput('input.name', 'a member with this name already exists');
      throw err;
    }
  }

  async suspend(caller: Caller, id: string, reason: string): Promise<MemberEntity> {
    const why = text('reason', reason);
    const memberId = uuid('id', id);
    if (memberId === caller.memberId) throw CordonException.badInput('id', 'you cannot suspend your own member');
    return this.auth.credentialTransaction(async (em) => {
      const member = await this.lockMember(em, memberId);
      if (member.suspended) throw CordonException.badInput('id', 'the member is already suspended');
      Object.assign(member, { suspended: true, suspendedReason: why, suspendedAt: this.clock.now() });
      await em.getRepository(MemberEntity).save(member);
      await this.audit.record(em, { action: 'member.suspend', actor: caller, subjectId: member.id,
          subjectMemberId: member.id, data: { reason: why } });
      return member;
    });
  }

  async reinstate(caller: Caller, id: string, note: string | null | undefined): Promise<MemberEntity> {
    const memberId = uuid('id', id);
    const why = optionalText('note', note);
    return this.auth.credentialTransaction(async (em) => {
      const member = await this.lockMember(em, memberId);
      if (!member.suspended) throw CordonException.badInput('id', 'the member is not suspended');
      Object.assign(member, { suspended: false, suspendedReason: null, suspendedAt: null });
      await em.getRepository(MemberEntity).save(member);
      await this.audit.record(em, { action: 'member.reinstate', actor: caller, subjectId: member.id,
          subjectMemberId: member.id, data: { note: why } });
      return member;
    });
  }

  private async lockMember(em: EntityManager, id: string): Promise<MemberEntity> {
    const member = await em.getRepository(MemberEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!member) throw CordonException.notFound('member', 'id');
    return member;
  }
}
