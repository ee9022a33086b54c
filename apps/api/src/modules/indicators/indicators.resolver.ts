import { Args, Context, ID, Int, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller, isCoordinator } from '../../common/caller.js';
import { requestLoader } from '../../common/request-loader.js';
import { AuditService } from '../audit/audit.service.js';
import { MembersService } from '../members/members.service.js';
import { PrincipalObject } from '../principals/dto/principal.object.js';
import { PrincipalsService } from '../principals/principals.service.js';
import {
  IndicatorConnection,
  IndicatorFilter,
  IndicatorObject,
  ReportedSiteObject,
  StatementObject,
  StatementReviewObject,
} from './dto/indicator.object.js';
import { IndicatorStatus, Tlp } from './dto/indicator.enums.js';
import { encodeCursor } from '../../common/paging.js';
import { IndicatorsService } from './indicators.service.js';
import type { IndicatorView } from './indicator.rows.js';
import { CordonException } from '../../common/cordon.exception.js';

type Req = object;

@Resolver(() => IndicatorObject)
export class IndicatorsResolver {
  constructor(private readonly indicatorService: IndicatorsService) {}

  @Query(() => IndicatorObject, { nullable: true, description: 'Null when absent or not visible to your member (SPEC 3).' })
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Args('id', { type: () => ID }) id: string): Promise<IndicatorObject | null> {
    const view = await this.indicatorService.get(req, caller, id);
    return view && IndicatorObject.from(view);
  }

  @Query(() => IndicatorConnection, { description: 'Visible indicators, ordered by last change (Relay connection).' })
  @Authenticated()
  async indicators(
    @CurrentCaller() caller: Caller,
    @Args('first', { type: () => Int, nullable: true }) first?: number,
    @Args('after', { nullable: true }) after?: string,
    @Args('filter', { type: () => IndicatorFilter, nullable: true }) filter?: IndicatorFilter,
  ): Promise<IndicatorConnection> {
    const { rows, hasNextPage } = await this.indicatorService.page(caller, first, after, {
      kind: filter?.kind,
      status: filter?.status,
      network: filter?.network,
      memberId: filter?.member?.toLowerCase(),
      updatedSince: filter?.updatedSince,
    });
    const edges = rows.map((row) => ({ cursor: encodeCursor('indicators-v2', row.position.idx, row.id), node: IndicatorObject.from(row) }));
    return { edges, pageInfo: { hasNextPage, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null } };
  }

  // Every derived field comes from the caller's view of the indicator (IndicatorStore.views): the
  // statements the caller may see, and the decisions on them, and nothing else (issue 16).
  private async viewOf(caller: Caller, req: Req, indicator: IndicatorObject): Promise<IndicatorView> {
    const view = indicator.view ?? (await this.indicatorService.viewLoader(req, caller).load(indicator.id));
    if (!view) throw CordonException.notFound('indicator');
    indicator.view = view;
    return view;
  }

  @ResolveField(() => Int, { description: 'Members with a supporting statement you may see.' })
  @Authenticated()
  async attestationCount(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<number> {
    return (await this.viewOf(caller, req, indicator)).attestation_count;
  }

  @ResolveField(() => Int, { description: 'Noisy-OR of the highest confidences of the members whose supporting statements you may see (README).' })
  @Authenticated()
  async confidence(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<number> {
    return (await this.viewOf(caller, req, indicator)).confidence;
  }

  @ResolveField(() => String, { description: 'The category the most supporting members give, among the statements you may see.' })
  @Authenticated()
  async category(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<string> {
    return (await this.viewOf(caller, req, indicator)).category;
  }

  @ResolveField(() => Date, { description: 'The first statement you may see was received.' })
  @Authenticated()
  async firstSeenAt(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<Date> {
    return (await this.viewOf(caller, req, indicator)).first_seen_at;
  }

  @ResolveField(() => Date, { description: 'The last statement you may see was received.' })
  @Authenticated()
  async lastSeenAt(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<Date> {
    return (await this.viewOf(caller, req, indicator)).last_seen_at;
  }

  @ResolveField(() => Tlp, { description: 'The least restrictive TLP among the statements you may see.' })
  @Authenticated()
  async tlp(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<Tlp> {
    return (await this.viewOf(caller, req, indicator)).tlp as Tlp;
  }

  @ResolveField(() => Date, { nullable: true, description: 'When the last supporting statement you may see expires; null while one has no exp.' })
  @Authenticated()
  async supportedUntil(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<Date | null> {
    return (await this.viewOf(caller, req, indicator)).supported_until;
  }

  @ResolveField(() => Int, {
    description: 'The changes you can see (each transaction that added a statement you may see or changed one’s status): pass it back as expectedVersion when deciding.',
  })
  @Authenticated()
  async version(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<number> {
    return (await this.viewOf(caller, req, indicator)).version;
  }

  @ResolveField(() => Date, { description: 'When the first statement you may see was received.' })
  @Authenticated()
  async createdAt(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<Date> {
    return (await this.viewOf(caller, req, indicator)).first_seen_at;
  }

  @ResolveField(() => Date, { description: 'The last change you can see.' })
  @Authenticated()
  async updatedAt(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<Date> {
    return (await this.viewOf(caller, req, indicator)).updated_at;
  }

  @ResolveField(() => [StatementObject], { description: 'The statements you may see (each statement’s own TLP governs it).' })
  @Authenticated()
  async statements(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<StatementObject[]> {
    return (await this.indicatorService.statementsOf(req, caller, indicator.id)).map((row) => StatementObject.from(row));
  }

  @ResolveField(() => [ReportedSiteObject], { description: 'Reported websites linked through the statements you may see.' })
  @Authenticated()
  async sites(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() indicator: IndicatorObject): Promise<ReportedSiteObject[]> {
    const rows = await this.indicatorService.sitesOf(req, caller, indicator.id);
    return rows.map((r) => Object.assign(new ReportedSiteObject(), { fingerprint: r.fingerprint, rawUrl: r.url }));
  }
}

/** SPEC 4: what only a statement's own member and coordinators read (its JWS, receipt, review). */
const issuersOwn = (caller: Caller, statement: StatementObject) => statement.row.issuer_member_id === caller.memberId || isCoordinator(caller);

@Resolver(() => StatementObject)
export class StatementFieldsResolver {
  constructor(
    private readonly principalService: PrincipalsService,
    private readonly memberService: MembersService,
    private readonly audit: AuditService,
    private readonly indicators: IndicatorsService,
  ) {}

  @ResolveField(() => String, {
    nullable: true,
    description: 'The exact JWS received; null unless your own member’s or you are a coordinator. It carries the evidence’s site URLs: each read of one that names sites is audited (site.url.read).',
  })
  @Authenticated()
  async jws(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() statement: StatementObject): Promise<string | null> {
    if (!issuersOwn(caller, statement)) return null;
    await recordSiteUrlRead(this.audit, req, caller, statement.row.site_fingerprints);
    return statement.row.jws;
  }

  @ResolveField(() => StatementReviewObject, {
    nullable: true,
    description: 'The latest curator decision on it (review, revocation, expiry) with the note: for your own member’s statements (and coordinators); null otherwise or when none was made.',
  })
  @Authenticated()
  async review(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() statement: StatementObject): Promise<StatementReviewObject | null> {
    if (!issuersOwn(caller, statement)) return null;
    const row = await this.indicators.reviewOf(req, { id: statement.id, indicatorId: statement.row.indicator_id });
    return row ? Object.assign(new StatementReviewObject(), { decision: row.action, status: row.to_status as IndicatorStatus, note: row.note, at: row.at }) : null;
  }

  @ResolveField(() => String, { nullable: true, description: 'The exchange’s receipt; null unless your own member’s or you are a coordinator.' })
  @Authenticated()
  receipt(@CurrentCaller() caller: Caller, @Parent() statement: StatementObject): string | null {
    return issuersOwn(caller, statement) ? statement.row.receipt : null;
  }

  @ResolveField(() => PrincipalObject, {
    description:
      'Who signed it. Another member’s principal shows its name, member and the key that signed — no roles, flags, last use or revocation details — unless you may see that member’s internals.',
  })
  @Authenticated()
  async issuer(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() statement: StatementObject): Promise<PrincipalObject> {
    const loader = requestLoader(req, 'issuers', (ids: readonly string[]) => this.principalService.loadMany(ids));
    const entity = (await loader.load(statement.row.issuer_principal_id))!;
    if (this.memberService.canSeeInternals(caller, entity.memberId)) return PrincipalObject.from(entity);
    return PrincipalObject.asIssuer(entity, statement.row.kid);
  }
}

@Resolver(() => ReportedSiteObject)
export class ReportedSiteResolver {
  constructor(private readonly audit: AuditService) {}

  @ResolveField(() => String, {
    nullable: true,
    description: 'The normalised URL: coordinator members only (each read is audited); null for everyone else.',
  })
  @Authenticated()
  async url(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() site: ReportedSiteObject): Promise<string | null> {
    if (!isCoordinator(caller)) return null;
    await recordSiteUrlRead(this.audit, req, caller, [site.fingerprint]);
    return site.rawUrl;
  }
}

/**
 * Every read that yields a reported site's URL — `ReportedSite.url`, or a `Statement.jws` whose
 * evidence names sites — is audited: one `site.url.read` event per request, listing every site
 * read through any of those fields, written before the answer leaves.
 */
async function recordSiteUrlRead(audit: AuditService, req: Req, caller: Caller, fingerprints: readonly string[]): Promise<void> {
  if (fingerprints.length === 0) return;
  const loader = requestLoader<string, string>(req, 'site-url-read', async (read) => {
    await audit.recordAlone({ action: 'site.url.read', actor: caller, subjectId: null, data: { sites: [...new Set(read)] } });
    return [...read];
  });
  // load, not loadMany: loadMany resolves with the errors in place, and a failed write must fail the read.
  await Promise.all(fingerprints.map((f) => loader.load(f)));
}
