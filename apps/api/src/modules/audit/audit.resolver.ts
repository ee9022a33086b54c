import { Args, Field, ID, InputType, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { BigIntScalar as GraphQLBigInt } from '../../common/bigint.scalar.js';
import { DataSource } from 'typeorm';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller, isCoordinator } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { pageSize } from '../../common/paging.js';
import { Role } from '../../common/roles.js';
import { optionalText, uuid } from '../../common/validate.js';
import { PageInfo } from '../indicators/dto/indicator.object.js';
import { AuditTreeService } from './audit-tree.service.js';

@ObjectType('Checkpoint', { description: 'A signed tree head of the audit log (SPEC 6).' })
export class CheckpointObject {
  @Field(() => GraphQLBigInt)
  treeSize: number;

  @Field({ description: 'RFC 9162 root hash of the first treeSize events, lower-case hex.' })
  rootHash: string;

  @Field()
  issuedAt: Date;

  @Field({ description: 'Compact JWS by the exchange key over {"treeSize","rootHash","issuedAt"} (typ cordon-checkpoint+jwt); verify with /.well-known/jwks.json.' })
  signature: string;
}

@ObjectType('InclusionProof', { description: 'RFC 9162 section 2.1.3 inclusion proof.' })
export class InclusionProofObject {
  @Field(() => GraphQLBigInt)
  index: number;

  @Field(() => GraphQLBigInt)
  treeSize: number;

  @Field({ description: 'SHA-256(0x00 || canonical bytes of the event), lower-case hex.' })
  leafHash: string;

  @Field(() => [String], { description: 'Sibling hashes from the leaf up, lower-case hex.' })
  path: string[];
}

@ObjectType('ConsistencyProof', { description: 'RFC 9162 section 2.1.4 consistency proof.' })
export class ConsistencyProofObject {
  @Field(() => GraphQLBigInt)
  fromSize: number;

  @Field(() => GraphQLBigInt)
  toSize: number;

  @Field(() => [String])
  path: string[];
}

@ObjectType('AuditEvent', { description: 'One event of the audit log, exactly as stored and hashed.' })
export class AuditEventObject {
  @Field(() => GraphQLBigInt)
  index: number;

  @Field()
  at: Date;

  @Field()
  action: string;

  @Field(() => ID, { nullable: true })
  actorPrincipalId: string | null;

  @Field(() => ID, { nullable: true })
  actorMemberId: string | null;

  @Field(() => ID, { nullable: true })
  subjectId: string | null;

  @Field(() => ID, { nullable: true, description: 'The member the subject belongs to.' })
  subjectMemberId: string | null;

  @Field({ description: 'The exact RFC 8785 canonical JSON whose leaf hash is leafHash.' })
  canonical: string;

  @Field({ description: 'SHA-256(0x00 || canonical), lower-case hex.' })
  leafHash: string;
}

@ObjectType('AuditEventEdge')
export class AuditEventEdge {
  @Field()
  cursor: string;

  @Field(() => AuditEventObject)
  node: AuditEventObject;
}

@ObjectType('AuditEventConnection')
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@InputType('AuditEventFilter')
export class AuditEventFilter {
  @Field({ nullable: true, description: 'Exact action, e.g. member.create, screen, statements.accept.' })
  action?: string;

  @Field(() => ID, { nullable: true })
  actorPrincipalId?: string;

  @Field(() => ID, { nullable: true })
  actorMemberId?: string;

  @Field({ nullable: true, description: 'Events at or after this time.' })
  since?: Date;

  @Field({ nullable: true, description: 'Events before this time.' })
  until?: Date;
}

const CURSOR_KIND = 'audit';
const encodeIndex = (index: number) => Buffer.from(JSON.stringify([CURSOR_KIND, index])).toString('base64url');
function decodeIndex(cursor: string): number {
  try {
    const [kind, index] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (kind !== CURSOR_KIND || !Number.isSafeInteger(index) || (index as number) < 0) throw new Error('bad');
    return index as number;
  } catch {
    throw CordonException.badInput('after', 'is not a cursor returned by this query');
  }
}


@Resolver()
export class AuditResolver {
  constructor(
    private readonly tree: AuditTreeService,
    private readonly dataSource: DataSource,
  ) {}

  @Query(() => CheckpointObject, { description: 'A signed checkpoint of the whole audit log now (SPEC 6).' })
  @Authenticated()
  async auditCheckpoint(): Promise<CheckpointObject> {
    const c = await this.tree.checkpoint();
    return Object.assign(new CheckpointObject(), { ...c, issuedAt: new Date(c.issuedAt) });
  }

  @Query(() => InclusionProofObject, { description: 'Proof that event `index` is in the log of size `treeSize` (RFC 9162 2.1.3).' })
  @Authenticated()
  async auditInclusionProof(
    @Args('index', { type: () => GraphQLBigInt }) index: number,
    @Args('treeSize', { type: () => GraphQLBigInt }) treeSize: number,
  ): Promise<InclusionProofObject> {
    return Object.assign(new InclusionProofObject(), await this.tree.inclusionProof(index, treeSize));
  }

  @Query(() => ConsistencyProofObject, { description: 'Proof that the log of size `toSize` extends the log of size `fromSize` (RFC 9162 2.1.4).' })
  @Authenticated()
  async auditConsistencyProof(
    @Args('fromSize', { type: () => GraphQLBigInt }) fromSize: number,
    @Args('toSize', { type: () => GraphQLBigInt }) toSize: number,
  ): Promise<ConsistencyProofObject> {
    return Object.assign(new ConsistencyProofObject(), await this.tree.consistencyProof(fromSize, toSize));
  }

  @Query(() => AuditEventConnection, {
    description: 'The audit log in index order. An AUDITOR of a COORDINATOR member sees every event; other AUDITORs the events whose actor or subject is their own member.',
  })
  @Roles(Role.AUDITOR)
  async auditEvents(
    @CurrentCaller() caller: Caller,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
    @Args('filter', { type: () => AuditEventFilter, nullable: true }) filter?: AuditEventFilter,
  ): Promise<AuditEventConnection> {
    const size = pageSize(first);
    const params: unknown[] = [after ? decodeIndex(after) : -1, size + 1];
    const where = ['idx > $1'];
    const add = (sql: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(sql(params.length));
    };
    if (!isCoordinator(caller)) add((n) => `(actor_member_id = $${n}::uuid OR subject_member_id = $${n}::uuid)`, caller.memberId);
    const action = optionalText('filter.action', filter?.action, 100);
    if (action) add((n) => `action = $${n}`, action);
    if (filter?.actorPrincipalId) add((n) => `actor_principal_id = $${n}::uuid`, uuid('filter.actorPrincipalId', filter.actorPrincipalId));
    if (filter?.actorMemberId) add((n) => `actor_member_id = $${n}::uuid`, uuid('filter.actorMemberId', filter.actorMemberId));
    for (const name of ['since', 'until'] as const) {
      const when = filter?.[name];
      if (when && (!Number.isFinite(when.getTime()) || when.getUTCFullYear() < 1 || when.getUTCFullYear() > 9999)) {
        throw CordonException.badInput(`filter.${name}`, 'must be an ISO 8601 date-time between the years 1 and 9999');
      }
    }
    if (filter?.since) add((n) => `at >= $${n}`, filter.since);
    if (filter?.until) add((n) => `at < $${n}`, filter.until);
    const rows = (await this.dataSource.query(
      `SELECT idx, at, action, actor_principal_id, actor_member_id, subject_id, subject_member_id, canonical, leaf_hash
         FROM audit_event WHERE ${where.join(' AND ')} ORDER BY idx LIMIT $2`,
      params,
    )) as {
      idx: string;
      at: Date;
      action: string;
      actor_principal_id: string | null;
      actor_member_id: string | null;
      subject_id: string | null;
      subject_member_id: string | null;
      canonical: string;
      leaf_hash: Buffer;
    }[];
    const page = rows.slice(0, size);
    const edges = page.map((r) =>
      Object.assign(new AuditEventEdge(), {
        cursor: encodeIndex(Number(r.idx)),
        node: Object.assign(new AuditEventObject(), {
          index: Number(r.idx),
          at: r.at,
          action: r.action,
          actorPrincipalId: r.actor_principal_id,
          actorMemberId: r.actor_member_id,
          subjectId: r.subject_id,
          subjectMemberId: r.subject_member_id,
          canonical: r.canonical,
          leafHash: r.leaf_hash.toString('hex'),
        }),
      }),
    );
    return { edges, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
