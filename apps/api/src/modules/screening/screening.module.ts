import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { ScreeningResolver } from './screening.resolver.js';
import { ScreeningService } from './screening.service.js';
import { ListedIndex } from './listed-index.js';
import { BulkScreen } from './bulk-screen.js';

@Module({ imports: [IndicatorsModule], providers: [ScreeningService, ScreeningResolver, ListedIndex, BulkScreen], exports: [ScreeningService, ListedIndex, BulkScreen] })
export class ScreeningModule {}
