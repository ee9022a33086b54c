import { Module } from '@nestjs/common';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { ChangeStream } from './change-stream.js';
import { ChangesResolver } from './changes.resolver.js';
import { ChangesService } from './changes.service.js';

@Module({ imports: [IndicatorsModule], providers: [ChangesService, ChangeStream, ChangesResolver] })
export class ChangesModule {}
