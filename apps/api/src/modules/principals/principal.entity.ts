import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, OneToMany, PrimaryGeneratedColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { Role } from '../../common/roles.js';
import { MemberEntity } from '../members/member.entity.js';
import { PrincipalKeyEntity } from './principal-key.entity.js';

@Entity('principal')
export class PrincipalEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column('uuid', { name: 'member_id' })
  memberId: string;

  @ManyToOne(() => MemberEntity)
  @JoinColumn({ name: 'member_id' })
  member?: Relation<MemberEntity>;

  @Column('text')
  name: string;

  @Column('text', { array: true })
  roles: Role[];

  @Column('boolean')
  disabled: boolean;

  @Column('text', { name: 'disabled_reason', nullable: true })
  disabledReason: string | null;

  @Column('timestamptz', { name: 'disabled_at', nullable: true })
  disabledAt: Date | null;

  @OneToMany(() => PrincipalKeyEntity, (key) => key.principal)
  keys?: Relation<PrincipalKeyEntity[]>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
