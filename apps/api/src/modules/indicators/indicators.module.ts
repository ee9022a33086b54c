import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module.js';
import { PrincipalsModule } from '../principals/principals.module.js';
import { IndicatorStore } from './indicator.store.js';
import { IndicatorsResolver, ReportedSiteResolver, StatementFieldsResolver } from './indicators.resolver.js';
import { IndicatorsService } from './indicators.service.js';

@Module({
  imports: [MembersModule, PrincipalsModule],
  providers: [IndicatorStore, IndicatorsService, IndicatorsResolver, StatementFieldsResolver, ReportedSiteResolver],
  exports: [IndicatorStore, IndicatorsService],
})
export class IndicatorsModule {}
