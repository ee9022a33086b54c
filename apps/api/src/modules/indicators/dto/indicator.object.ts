import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsEnum, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { IndicatorRow, StatementRow } from '../indicator.rows.js';
import { IndicatorKind, IndicatorStatus, Tlp } from './indicator.enums.js';

@ObjectType('Indicator', { description: 'One identity (kind, network, canonical value) and what the coalition says of it.' })
export class IndicatorObject {
  @Field(() => ID)
  id: string;

  @Field(() => IndicatorKind)
  kind: IndicatorKind;

  @Field(() => String, { nullable: true, description: 'Canonical network (ethereum for every EVM chain); null for kinds without one.' })
  network: string | null;

  @Field({ description: 'The canonical value (SPEC 3).' })
  value: string;

  @Field({ description: 'Lower-case hex SHA-256 of kind|network|canonical.' })
  fingerprint: string;

  @Field(() => IndicatorStatus)
  status: IndicatorStatus;

  @Field(() => Int, { description: 'Noisy-OR of the attesting members’ highest confidences (README).' })
  confidence: number;

  @Field()
  category: string;

  @Field(() => Tlp, { description: 'The least restrictive TLP among its statements.' })
  tlp: Tlp;

  @Field(() => Int, { description: 'Members with a statement that still supports the indicator.' })
  attestationCount: number;

  @Field()
  firstSeenAt: Date;

  @Field()
  lastSeenAt: Date;

  @Field(() => Date, { nullable: true, description: 'When its last supporting statement expires; null while one has no exp.' })
  supportedUntil: Date | null;

  @Field(() => Int, { description: 'Increases with every status change: pass it back as expectedVersion when deciding.' })
  version: number;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;

  static from(row: IndicatorRow): IndicatorObject {
    return Object.assign(new IndicatorObject(), {
      id: row.id,
      kind: row.kind as IndicatorKind,
      network: row.network === '' ? null : row.network,
      value: row.value,
      fingerprint: row.fingerprint,
      status: row.status as IndicatorStatus,
      confidence: row.confidence,
      category: row.category,
      tlp: row.tlp as Tlp,
      attestationCount: row.attestation_count,
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
      supportedUntil: row.supported_until,
      version: row.version,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
}

@ObjectType('Statement', { description: 'A signed indicator statement as received (SPEC 4).' })
export class StatementObject {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Hex SHA-256 of the exact JWS text.' })
  sha256: string;

  @Field()
  jti: string;

  @Field()
  receivedAt: Date;

  @Field()
  issuedAt: Date;

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  @Field(() => Tlp)
  tlp: Tlp;

  @Field(() => Int)
  confidence: number;

  @Field()
  category: string;

  /** Internal, resolved with checks. */
  row: StatementRow;

  static from(row: StatementRow): StatementObject {
    return Object.assign(new StatementObject(), {
      id: row.id,
      sha256: row.sha256,
      jti: row.jti,
      receivedAt: row.received_at,
      issuedAt: row.issued_at,
      expiresAt: row.expires_at,
      tlp: row.tlp as Tlp,
      confidence: row.confidence,
      category: row.category,
      row,
    });
  }
}

@ObjectType('ReportedSite', { description: 'A reported website linked through a statement’s evidence.' })
export class ReportedSiteObject {
  @Field({ description: 'Hex SHA-256 of the normalised URL.' })
  fingerprint: string;

  /** Resolved for coordinators only. */
  rawUrl: string;
}

@ObjectType('IndicatorEdge')
export class IndicatorEdge {
  @Field()
  cursor: string;

  @Field(() => IndicatorObject)
  node: IndicatorObject;
}

@ObjectType('PageInfo')
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

@ObjectType('IndicatorConnection')
export class IndicatorConnection {
  @Field(() => [IndicatorEdge])
  edges: IndicatorEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@InputType()
export class IndicatorFilter {
  @Field(() => IndicatorKind, { nullable: true })
  @IsOptional()
  @IsEnum(IndicatorKind)
  kind?: IndicatorKind;

  @Field(() => IndicatorStatus, { nullable: true })
  @IsOptional()
  @IsEnum(IndicatorStatus)
  status?: IndicatorStatus;

  @Field({ nullable: true, description: 'Canonical network (an EVM alias is accepted and means ethereum).' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  network?: string;

  @Field(() => ID, { nullable: true, description: 'Indicators this member attested (with a statement you may see).' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  member?: string;

  @Field({ nullable: true, description: 'Only indicators changed at or after this time.' })
  @IsOptional()
  updatedSince?: Date;
}
