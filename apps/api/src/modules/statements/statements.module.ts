import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { StatementsResolver, SubmitResultResolver } from './statements.resolver.js';
import { StatementsService } from './statements.service.js';

@Module({
  imports: [IndicatorsModule],
  providers: [StatementsService, StatementsResolver, SubmitResultResolver],
  exports: [StatementsService],
})
export class StatementsModule {}
