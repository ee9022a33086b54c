import { Module } from '@nestjs/common';
import { CurationModule } from '../curation/curation.module.js';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { ExclusionsResolver } from './exclusions.resolver.js';
import { ExclusionsService } from './exclusions.service.js';

@Module({ imports: [IndicatorsModule, CurationModule], providers: [ExclusionsService, ExclusionsResolver], exports: [ExclusionsService] })
export class ExclusionsModule {}
