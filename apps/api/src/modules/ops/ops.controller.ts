import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Headers, HttpCode, HttpException, HttpStatus, Inject, type OnApplicationShutdown } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { MIGRATIONS } from '@app/database';
import { DataSource } from 'typeorm';
import { Public } from '../../common/access.decorator.js';
import { CONFIG } from '../../common/tokens.js';
import { MetricsService } from './metrics.service.js';

/** Readiness and metrics for operators (liveness is GET /health). */
@Controller()
export class OpsController implements OnApplicationShutdown {
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: CordonConfig,
  ) {}

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /** 200 when this process should get traffic: database answering, every migration applied, not stopping (pid: which process answered). */
  @Get('ready')
  @Public()
  @HttpCode(200)
  async ready(): Promise<{ status: 'ready'; migrations: number; pid: number }> {
    const unavailable = (reason: string) => new HttpException({ status: 'unavailable', reason }, HttpStatus.SERVICE_UNAVAILABLE);
    if (this.stopping) throw unavailable('shutting down');
    let applied: string[];
    try {
      applied = ((await this.dataSource.query('SELECT name FROM migrations')) as { name: string }[]).map((r) => r.name);
    } catch {
      throw unavailable('database not answering');
    }
    const missing = MIGRATIONS.map((m) => m.name).filter((name) => !applied.includes(name));
    if (missing.length > 0) throw unavailable(`migrations not applied: ${missing.join(', ')}`);
    return { status: 'ready', migrations: applied.length, pid: process.pid };
  }

  /**
   * Prometheus text format, for the operator's scraper only: `Authorization: Bearer
   * <CORDON_METRICS_TOKEN>`. Counters of what every member did (statements accepted, keys the
   * screening index let through to SQL, listed fingerprints) are not for members, who share the
   * port; without the setting /metrics is off.
   */
  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(@Headers('authorization') authorization?: string): Promise<string> {
    const expected = this.config.metricsToken;
    const error = (status: HttpStatus, code: string, message: string) => new HttpException({ errors: [{ message, extensions: { code } }] }, status);
    if (!expected) throw error(HttpStatus.FORBIDDEN, 'FORBIDDEN', 'GET /metrics is off: set CORDON_METRICS_TOKEN and send it as `Authorization: Bearer <token>`');
    const given = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1] ?? '';
    const digest = (s: string) => createHash('sha256').update(s).digest();
    if (!timingSafeEqual(digest(given), digest(expected))) {
      throw error(HttpStatus.UNAUTHORIZED, 'UNAUTHENTICATED', 'GET /metrics needs `Authorization: Bearer <CORDON_METRICS_TOKEN>`');
    }
    return this.metrics.registry.metrics();
  }
}
