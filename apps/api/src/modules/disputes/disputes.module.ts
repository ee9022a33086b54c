import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';

@Module({ imports: [IndicatorsModule], providers: [] })
export class DisputesModule {}
