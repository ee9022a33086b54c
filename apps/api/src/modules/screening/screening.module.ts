import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { ScreeningResolver } from './screening.resolver.js';
import { ScreeningService } from './screening.service.js';

@Module({ imports: [IndicatorsModule], providers: [ScreeningService, ScreeningResolver] })
export class ScreeningModule {}
