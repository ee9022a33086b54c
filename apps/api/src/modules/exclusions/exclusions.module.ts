import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { ExclusionsResolver } from './exclusions.resolver.js';
import { ExclusionsService } from './exclusions.service.js';

@Module({ imports: [IndicatorsModule], providers: [ExclusionsService, ExclusionsResolver], exports: [ExclusionsService] })
export class ExclusionsModule {}
