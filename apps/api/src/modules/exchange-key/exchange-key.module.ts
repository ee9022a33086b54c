import { Global, Module } from '@nestjs/common';
import { ExchangeKeyService } from './exchange-key.service.js';
import { JwksController } from './jwks.controller.js';

@Global()
@Module({ providers: [ExchangeKeyService], controllers: [JwksController], exports: [ExchangeKeyService] })
export class ExchangeKeyModule {}
