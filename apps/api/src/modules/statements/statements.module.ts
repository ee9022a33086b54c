import { Module } from '@nestjs/common';
import { ExclusionsModule } from '../exclusions/exclusions.module.js';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { MembersModule } from '../members/members.module.js';
import { PrincipalsModule } from '../principals/principals.module.js';
import { StatementRepository } from './statement.repository.js';
import { StatementsResolver, SubmitResultResolver } from './statements.resolver.js';
import { StatementsService } from './statements.service.js';
import { CategoriesModule } from '../categories/categories.module.js';

@Module({
  imports: [IndicatorsModule, PrincipalsModule, MembersModule, ExclusionsModule, CategoriesModule],
  providers: [StatementRepository, StatementsService, StatementsResolver, SubmitResultResolver],
  exports: [StatementsService],
})
export class StatementsModule {}
