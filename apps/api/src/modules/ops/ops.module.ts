import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';
import { OpsController } from './ops.controller.js';
import { RateLimits } from './rate-limits.js';

@Global()
@Module({ providers: [MetricsService, RateLimits], controllers: [OpsController], exports: [MetricsService, RateLimits] })
export class OpsModule {}
