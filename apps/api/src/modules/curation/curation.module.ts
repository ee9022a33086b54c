import { Module } from '@nestjs/common';
import { DisputesModule } from '../disputes/disputes.module.js';
import { IndicatorsModule } from '../indicators/indicators.module.js';
import { CurationResolver } from './curation.resolver.js';
import { CurationService } from './curation.service.js';
import { ExpirySweeper } from './expiry-sweeper.js';

/** Curators' decisions, the review queue, and the expiry sweep (README "Indicator states"). */
@Module({
  imports: [IndicatorsModule, DisputesModule],
  providers: [CurationService, CurationResolver, ExpirySweeper],
  exports: [CurationService, ExpirySweeper],
})
export class CurationModule {}
