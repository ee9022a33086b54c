import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { ChangesResolver, ChangesService } from './changes.js';

@Module({ imports: [IndicatorsModule], providers: [ChangesService, ChangesResolver] })
export class ChangesModule {}
