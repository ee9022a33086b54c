import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module.js';
import { PrincipalsModule } from '../principals/principals.module.js';
import { IndicatorsRepository } from './indicators.repository.js';
import { IndicatorsResolver, ReportedSiteResolver, StatementFieldsResolver } from './indicators.resolver.js';
import { IndicatorsService } from './indicators.service.js';

@Module({
  imports: [MembersModule, PrincipalsModule],
  providers: [IndicatorsRepository, IndicatorsService, IndicatorsResolver, StatementFieldsResolver, ReportedSiteResolver],
  exports: [IndicatorsRepository, IndicatorsService],
})
export class IndicatorsModule {}
