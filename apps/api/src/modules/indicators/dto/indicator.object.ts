import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsEnum, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { IndicatorSummary, IndicatorView, StatementRow } from '../indicator.rows.js';
import { IndicatorKind, IndicatorStatus, Tlp } from './indicator.enums.js';

@ObjectType('StatementReview', { description: 'A curator’s latest decision on a statement: told to the statement’s own member (and coordinators).' })
export class StatementReviewObject {
  @Field({ description: 'APPROVE, REJECT, REVOKE or EXPIRE.' })
  decision: string;

  @Field(() => IndicatorStatus, { description: 'The statement’s status the decision left.' })
  status: IndicatorStatus;

  @Field(() => String, { nullable: true, description: 'The curator’s note or reason.' })
  note: string | null;

  @Field()
  at: Date;
}

@ObjectType('Indicator', {
  description:
    'One identity (kind, network, canonical value) and what the coalition says of it — as you see it: every derived field comes from the statements you may see (README "Indicator states").',
})
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

  @Field(() => IndicatorStatus, { description: 'The highest-ranked status among the statements you may see (README "Indicator states").' })
  status: IndicatorStatus;

  /** The whole view, when the producer computed it; otherwise the derived fields load it per request. */
  view?: IndicatorView;

  static from(view: IndicatorView): IndicatorObject {
    return Object.assign(IndicatorObject.summary(view), { view });
  }

  /** Identity and status only (screening's hits): the rest is loaded if asked for. */
  static summary(row: IndicatorSummary): IndicatorObject {
    return Object.assign(new IndicatorObject(), {
      id: row.id,
      kind: row.kind as IndicatorKind,
      network: row.network === '' ? null : row.network,
      value: row.value,
      fingerprint: row.fingerprint,
      status: row.status as IndicatorStatus,
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

  @Field(() => IndicatorStatus, { description: 'This statement’s own curation status (a passed exp counts as EXPIRED).' })
  status: IndicatorStatus;

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
      status: row.status as IndicatorStatus,
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

  @Field({ nullable: true, description: 'Canonical network, any case (a ticker such as btc or an EVM alias is accepted: an EVM alias means ethereum).' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  network?: string;

  @Field(() => ID, { nullable: true, description: 'Indicators this member attested (with a statement you may see).' })
  @IsOptional()
  @IsUUID('all', { message: 'must be a UUID' })
  member?: string;

  @Field({ nullable: true, description: 'Only indicators whose last change you can see is at or after this time.' })
  @IsOptional()
  updatedSince?: Date;
}
