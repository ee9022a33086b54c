import { Module } from '@nestjs/common';
import { WebhookStore } from './webhook.store.js';

/** The webhook tables' owner, for the modules whose transactions queue deliveries (notifications). */
@Module({ providers: [WebhookStore], exports: [WebhookStore] })
export class WebhookOutboxModule {}
