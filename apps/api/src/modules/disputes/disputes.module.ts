import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { WebhookOutboxModule } from '../webhooks/webhook-outbox.module.js';
import { DisputesResolver } from './disputes.resolver.js';
import { DisputesService } from './disputes.service.js';
import { NotificationsResolver } from './notifications.resolver.js';
import { NotificationsService } from './notifications.service.js';
import { IndicatorSightingsResolver, SightingsResolver } from './sightings.resolver.js';
import { SightingsService } from './sightings.service.js';

/** Disputes, sightings and the notifications that carry the remedy (issue 5, "Disputes and feedback"). */
@Module({
  imports: [IndicatorsModule, WebhookOutboxModule],
  providers: [
    DisputesService,
    DisputesResolver,
    SightingsService,
    SightingsResolver,
    IndicatorSightingsResolver,
    NotificationsService,
    NotificationsResolver,
  ],
  exports: [DisputesService, SightingsService, NotificationsService],
})
export class DisputesModule {}
