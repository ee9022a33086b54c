import { Controller, Get, Header, HttpCode, HttpException, HttpStatus, type OnApplicationShutdown } from '@nestjs/common';
import { MIGRATIONS } from '@app/database';
import { DataSource } from 'typeorm';
import { Public } from '../../common/access.decorator.js';
import { MetricsService } from './metrics.service.js';

/** Readiness and metrics for operators (liveness is GET /health). */
@Controller()
export class OpsController implements OnApplicationShutdown {
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly metrics: MetricsService,
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

  /** Prometheus text format. */
  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
