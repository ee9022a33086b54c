import { Module } from '@nestjs/common';
import { DisputesModule } from '../disputes/disputes.module.js';
import { ExchangeKeyModule } from '../exchange-key/exchange-key.module.js';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { PrincipalsModule } from '../principals/principals.module.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookOutboxModule } from './webhook-outbox.module.js';
import { WebhookDeliveriesResolver, WebhooksResolver } from './webhooks.resolver.js';
import { WebhooksService } from './webhooks.service.js';

/** Webhooks (README "Webhooks"): registration, the delivery log, and the dispatcher. */
@Module({
  imports: [WebhookOutboxModule, IndicatorsModule, DisputesModule, ExchangeKeyModule, PrincipalsModule],
  providers: [WebhooksService, WebhooksResolver, WebhookDeliveriesResolver, WebhookDispatcher],
})
export class WebhooksModule {}
