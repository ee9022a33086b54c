import { Args, Field, ID, InputType, Int, Mutation, ObjectType, Parent, Query, registerEnumType, ResolveField, Resolver } from '@nestjs/graphql';
import { IsArray, IsEnum, IsOptional, IsString } from 'class-validator';
import { GraphQLJSON } from 'graphql-scalars';
import { Authenticated, Roles } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { decodeCursor, encodeCursor, pageSize } from '../../common/paging.js';
import { PageInfo } from '../indicators/dto/indicator.object.js';
import { Role } from '../../common/roles.js';
import type { DeliveryRow, WebhookRow } from './webhook.store.js';
import { WebhooksService } from './webhooks.service.js';

export enum WebhookEventType {
  NOTIFICATION = 'NOTIFICATION',
  CHANGE = 'CHANGE',
}
registerEnumType(WebhookEventType, {
  name: 'WebhookEvent',
  description: 'What a webhook receives: its member’s notifications, and the change feed as its principal sees it.',
});

@ObjectType('WebhookAttempt', { description: 'One attempt to deliver.' })
export class WebhookAttemptObject {
  @Field(() => Int)
  attempt: number;

  @Field()
  at: Date;

  @Field(() => Int, { nullable: true, description: 'The HTTP status answered; null when none came (refused, timed out, TLS failure).' })
  status: number | null;

  @Field(() => String, { nullable: true, description: 'Why it failed; null for a delivery.' })
  error: string | null;

  @Field(() => Int)
  durationMs: number;
}

@ObjectType('WebhookDelivery', { description: 'One event queued for a webhook: its id is the idempotency id (the JWS jti and the Cordon-Delivery-Id header).' })
export class WebhookDeliveryObject {
  @Field(() => ID)
  id: string;

  @Field(() => WebhookEventType)
  type: WebhookEventType;

  @Field(() => GraphQLJSON, { description: 'The event as delivered (the JWS payload’s event).' })
  event: Record<string, unknown>;

  @Field()
  queuedAt: Date;

  @Field(() => Int)
  attempts: number;

  @Field(() => Date, { nullable: true })
  lastAttemptAt: Date | null;

  @Field(() => Int, { nullable: true })
  lastStatus: number | null;

  @Field(() => String, { nullable: true })
  lastError: string | null;

  @Field(() => Date, { nullable: true, description: 'When a 2xx answer came; null while queued.' })
  deliveredAt: Date | null;

  seq: string;

  static from(row: DeliveryRow): WebhookDeliveryObject {
    return Object.assign(new WebhookDeliveryObject(), {
      id: row.id,
      type: row.event_type as WebhookEventType,
      event: row.event,
      queuedAt: row.created_at,
      attempts: row.attempts,
      lastAttemptAt: row.last_attempt_at,
      lastStatus: row.last_status,
      lastError: row.last_error,
      deliveredAt: row.delivered_at,
      seq: row.seq,
    });
  }
}

@ObjectType('WebhookDeliveryEdge')
export class WebhookDeliveryEdge {
  @Field()
  cursor: string;

  @Field(() => WebhookDeliveryObject)
  node: WebhookDeliveryObject;
}

@ObjectType('WebhookDeliveryConnection')
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDeliveryEdge])
  edges: WebhookDeliveryEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}

@ObjectType('Webhook', { description: 'An HTTPS endpoint of a member that receives signed events (README "Webhooks").' })
export class WebhookObject {
  @Field(() => ID)
  id: string;

  @Field()
  url: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => ID, { description: 'The principal whose view the deliveries carry (its roles and visibility, as they are when each event is queued).' })
  principalId: string;

  @Field(() => ID)
  memberId: string;

  @Field(() => [WebhookEventType])
  events: WebhookEventType[];

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When it was taken out of service (by an ADMIN, or after repeated failures); null while in service.' })
  disabledAt: Date | null;

  @Field(() => String, { nullable: true })
  disabledReason: string | null;

  @Field(() => Int, { description: 'Failed attempts since the last delivery.' })
  consecutiveFailures: number;

  @Field({ description: 'When the next attempt may be made (backoff after a failure).' })
  nextAttemptAt: Date;

  @Field(() => Int, { description: 'Deliveries queued and not yet delivered.' })
  pending: number;

  row: WebhookRow;

  static from(row: WebhookRow): WebhookObject {
    return Object.assign(new WebhookObject(), {
      id: row.id,
      url: row.url,
      description: row.description,
      principalId: row.principal_id,
      memberId: row.member_id,
      events: row.events as WebhookEventType[],
      createdAt: row.created_at,
      disabledAt: row.disabled_at,
      disabledReason: row.disabled_reason,
      consecutiveFailures: row.consecutive_failures,
      nextAttemptAt: row.next_attempt_at,
      pending: row.pending,
      row,
    });
  }
}

@InputType()
export class WebhookInput {
  @Field(() => ID, { description: 'The member’s principal whose view the deliveries carry (a read-only SCREENER principal is a good choice).' })
  @IsString({ message: 'must be a string' })
  principalId: string;

  @Field({ description: 'https:// endpoint (no user name, password or fragment).' })
  @IsString({ message: 'must be a string' })
  url: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  description?: string | null;

  @Field(() => [WebhookEventType], { nullable: true, description: 'Default: every kind.' })
  @IsOptional()
  @IsArray({ message: 'must be a list' })
  @IsEnum(WebhookEventType, { each: true, message: `each must be one of ${Object.values(WebhookEventType).join(', ')}` })
  events?: WebhookEventType[] | null;
}

const CURSOR = 'webhook-deliveries';

@Resolver(() => WebhookObject)
export class WebhooksResolver {
  constructor(private readonly service: WebhooksService) {}

  @Mutation(() => WebhookObject, { description: 'Registers an HTTPS endpoint for a member’s principal: from now on it receives that member’s notifications and the change feed as the principal sees it, each as a JWS signed by the exchange key. Audited.' })
  @Roles(Role.ADMIN)
  async registerWebhook(@CurrentCaller() caller: Caller, @Args('input') input: WebhookInput): Promise<WebhookObject> {
    return WebhookObject.from(await this.service.register(caller, input));
  }

  @Mutation(() => WebhookObject, { description: 'Takes a webhook out of service; its queue is kept. Audited.' })
  @Roles(Role.ADMIN)
  async disableWebhook(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string, @Args('reason') reason: string): Promise<WebhookObject> {
    return WebhookObject.from(await this.service.disable(caller, id, reason));
  }

  @Mutation(() => WebhookObject, { description: 'Puts a disabled webhook back in service: failures forgotten, its kept queue sent, oldest first. Audited.' })
  @Roles(Role.ADMIN)
  async enableWebhook(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<WebhookObject> {
    return WebhookObject.from(await this.service.enable(caller, id));
  }

  @Query(() => [WebhookObject], { description: 'Webhooks: an ADMIN reads every one (or one member’s); any other principal its own.' })
  @Authenticated()
  async webhooks(@CurrentCaller() caller: Caller, @Args('memberId', { type: () => ID, nullable: true }) memberId?: string | null): Promise<WebhookObject[]> {
    return (await this.service.list(caller, memberId)).map((r) => WebhookObject.from(r));
  }

  @Query(() => WebhookObject, { description: 'One webhook you may read (NOT_FOUND otherwise).' })
  @Authenticated()
  async webhook(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<WebhookObject> {
    return WebhookObject.from(await this.service.get(caller, id));
  }

  @ResolveField(() => WebhookDeliveryConnection, { description: 'The delivery log, newest first.' })
  @Authenticated()
  async deliveries(
    @Parent() webhook: WebhookObject,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
  ): Promise<WebhookDeliveryConnection> {
    const size = pageSize(first);
    const before = after ? decodeCursor(CURSOR, after).micros : undefined;
    const rows = await this.service.deliveries(webhook.row, size + 1, before);
    const edges = rows.slice(0, size).map((r) => ({ cursor: encodeCursor(CURSOR, r.seq, r.id), node: WebhookDeliveryObject.from(r) }));
    return { edges, pageInfo: { hasNextPage: rows.length > size, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null } };
  }
}

@Resolver(() => WebhookDeliveryObject)
export class WebhookDeliveriesResolver {
  constructor(private readonly service: WebhooksService) {}

  @ResolveField(() => [WebhookAttemptObject], { description: 'Every attempt, oldest first.' })
  @Authenticated()
  async attemptLog(@Parent() delivery: WebhookDeliveryObject): Promise<WebhookAttemptObject[]> {
    return (await this.service.attempts([delivery.id])).map((a) =>
      Object.assign(new WebhookAttemptObject(), { attempt: a.attempt, at: a.at, status: a.status, error: a.error, durationMs: a.duration_ms }),
    );
  }
}
