import { Args, Context, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Authenticated } from '../../common/access.decorator.js';
import { type Caller, CurrentCaller } from '../../common/caller.js';
import { IndicatorObject } from '../indicators/dto/indicator.object.js';
import { IndicatorsService } from '../indicators/indicators.service.js';
import { NotificationObject } from './dto/notification.object.js';
import { NotificationsService } from './notifications.service.js';

type Req = object;

@Resolver(() => NotificationObject)
export class NotificationsResolver {
  constructor(
    private readonly notificationService: NotificationsService,
    private readonly indicators: IndicatorsService,
  ) {}

  @Query(() => [NotificationObject], { description: 'Your member’s notifications, newest first.' })
  @Authenticated()
  async notifications(
    @CurrentCaller() caller: Caller,
    @Args('unreadOnly', { type: () => Boolean, nullable: true }) unreadOnly?: boolean | null,
    @Args('first', { type: () => Int, nullable: true, description: 'At most this many (default 100, at most 500).' }) first?: number | null,
  ): Promise<NotificationObject[]> {
    return (await this.notificationService.list(caller, unreadOnly === true, first)).map((row) => NotificationObject.from(row));
  }

  @Mutation(() => NotificationObject, { description: 'Marks one of your member’s notifications read.' })
  @Authenticated()
  async acknowledgeNotification(@CurrentCaller() caller: Caller, @Args('id', { type: () => ID }) id: string): Promise<NotificationObject> {
    return NotificationObject.from(await this.notificationService.acknowledge(caller, id));
  }

  @ResolveField(() => IndicatorObject, { nullable: true, description: 'Null when the indicator is no longer visible to your member, or the notification is about none.' })
  @Authenticated()
  async indicator(@CurrentCaller() caller: Caller, @Context('req') req: Req, @Parent() notification: NotificationObject): Promise<IndicatorObject | null> {
    if (notification.indicatorId === null) return null;
    const view = await this.indicators.get(req, caller, notification.indicatorId);
    return view && IndicatorObject.from(view);
  }
}
