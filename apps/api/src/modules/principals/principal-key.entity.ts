import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import type { PublicJwk, SigningAlg } from '@app/signing';
import { PrincipalEntity } from './principal.entity.js';

export enum KeyStatus {
  ACTIVE = 'ACTIVE',
  REVOKED = 'REVOKED',
}

@Entity('principal_key')
export class PrincipalKeyEntity {
  /** RFC 7638 thumbprint */
  @PrimaryColumn('text')
  kid: string;

  @Column('uuid', { name: 'principal_id' })
  principalId: string;

  @ManyToOne(() => PrincipalEntity, (p) => p.keys)
  @JoinColumn({ name: 'principal_id' })
  principal?: Relation<PrincipalEntity>;

  @Column('text')
  alg: SigningAlg;

  @Column('jsonb', { name: 'public_jwk' })
  publicJwk: PublicJwk;

  @Column('text')
  status: KeyStatus;

  @Column('text', { name: 'revoked_reason', nullable: true })
  revokedReason: string | null;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column('timestamptz', { name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;
}
