import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { ApolloDriverConfig } from '@nestjs/apollo';
import { JitApolloDriver } from './common/jit-driver.js';
import { GraphQLModule } from '@nestjs/graphql';
import type { CordonConfig } from '@app/config';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AccessPolicyRegistry } from './common/access-policy.registry.js';
import { Clock } from './common/clock.js';
import { Notifications } from './common/notifications.js';
import { CONFIG, LOGGER } from './common/tokens.js';
import type { InFlight } from './common/in-flight.js';
import { graphqlOptions } from './graphql/config.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuditLogModule } from './modules/audit/audit-log.module.js';
import { MetricsService } from './modules/ops/metrics.service.js';
import { OpsModule } from './modules/ops/ops.module.js';
import { RateLimits } from './modules/ops/rate-limits.js';
import { AuditService } from './modules/audit/audit.service.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { AuthService } from './modules/auth/auth.service.js';
import { ExchangeKeyModule } from './modules/exchange-key/exchange-key.module.js';
import { HealthController } from './modules/health/health.controller.js';
import { MembersModule } from './modules/members/members.module.js';
import { PrincipalsModule } from './modules/principals/principals.module.js';
import { IndicatorsModule } from './modules/indicators/indicators.module.js';
import { StatementsModule } from './modules/statements/statements.module.js';
import { CurationModule } from './modules/curation/curation.module.js';
import { DisputesModule } from './modules/disputes/disputes.module.js';
import { ExclusionsModule } from './modules/exclusions/exclusions.module.js';
import { ScreeningModule } from './modules/screening/screening.module.js';
import { ChangesModule } from './modules/changes/changes.module.js';
import { CategoriesModule } from './modules/categories/categories.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';

export interface AppContext {
  config: CordonConfig;
  dataSource: DataSource;
  logger: Logger;
  clock?: Clock;
  /** GraphQL operations in flight (server.ts waits for them before closing the pool). */
  inFlight: InFlight;
}

/** What every module may inject: settings, the data source, the logger, the clock and notifications. */
@Global()
@Module({})
class CoreModule {
  static register(ctx: AppContext): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: ctx.config },
      { provide: LOGGER, useValue: ctx.logger },
      { provide: DataSource, useValue: ctx.dataSource },
      { provide: Clock, useValue: ctx.clock ?? new Clock() },
      Notifications,
    ];
    return { module: CoreModule, providers, exports: providers.map((p) => ('provide' in p ? p.provide : p)) };
  }
}

@Module({})
export class AppModule {
  static register(ctx: AppContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(ctx),
        DiscoveryModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: JitApolloDriver,
          inject: [AuthService, AuditService, MetricsService, RateLimits],
          useFactory: (auth: AuthService, audit: AuditService, metrics: MetricsService, limits: RateLimits) =>
            graphqlOptions(ctx.config, ctx.logger, { auth, audit, metrics, limits, inFlight: ctx.inFlight }),
        }),
        OpsModule,
        AuditModule,
        AuditLogModule,
        AuthModule,
        ExchangeKeyModule,
        MembersModule,
        PrincipalsModule,
        IndicatorsModule,
        StatementsModule,
        CurationModule,
        DisputesModule,
        ExclusionsModule,
        ScreeningModule,
        ChangesModule,
        CategoriesModule,
        WebhooksModule,
      ],
      controllers: [HealthController],
      providers: [AccessPolicyRegistry],
    };
  }
}
