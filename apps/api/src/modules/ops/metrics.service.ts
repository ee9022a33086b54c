import { Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';

/**
 * Prometheus metrics of this process (`GET /metrics`, prom-client): GraphQL requests and latency
 * per operation, screening keys and hits, statements accepted and refused by code, the audit
 * log's size, the database pool, and Node's own (CPU, memory, event-loop lag, GC).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'cordon_graphql_requests_total',
    help: 'GraphQL requests by operation (top-level fields) and outcome (ok or the first error code)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly latency = new Histogram({
    name: 'cordon_graphql_request_duration_seconds',
    help: 'GraphQL request latency by operation',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly screeningKeys = new Counter({ name: 'cordon_screening_keys_total', help: 'values and fingerprints screened', registers: [this.registry] });
  readonly screeningSqlKeys = new Counter({
    name: 'cordon_screening_sql_keys_total',
    help: 'screening keys looked up in the database (the index answers the rest without SQL)',
    registers: [this.registry],
  });
  readonly screeningHits = new Counter({ name: 'cordon_screening_hits_total', help: 'screened values that matched', registers: [this.registry] });

  readonly bulkCalls = new Counter({
    name: 'cordon_bulk_screen_calls_total',
    help: 'POST /v1/screen calls by outcome: ok, or the code that refused or ended it',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly statements = new Counter({
    name: 'cordon_statements_total',
    help: 'submitted statements by outcome: accepted, or the refusal code',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'cordon_rate_limited_total',
    help: 'requests refused by a rate limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly keyReads = new Counter({
    name: 'cordon_auth_key_reads_total',
    help: 'keys of authenticated requests, by where their standing came from: memory (remembered) or database',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  /** A gauge read when scraped (a module's own figure: the screening index's size …). */
  gauge(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  constructor(dataSource: DataSource) {
    collectDefaultMetrics({ register: this.registry, prefix: 'cordon_' });
    new Gauge({
      name: 'cordon_audit_log_size',
      help: 'events in the audit log (committed)',
      registers: [this.registry],
      async collect() {
        const [row] = (await dataSource.query('SELECT size FROM audit_head')) as { size: string }[];
        this.set(Number(row.size));
      },
    });
    const pool = () => (dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
    new Gauge({
      name: 'cordon_db_pool_connections',
      help: 'database pool of this process: total, idle, and requests waiting for a connection',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const p = pool();
        if (!p) return;
        this.set({ state: 'total' }, p.totalCount);
        this.set({ state: 'idle' }, p.idleCount);
        this.set({ state: 'waiting' }, p.waitingCount);
      },
    });
  }
}
