import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { LOGGER } from './tokens.js';

/**
 * One PostgreSQL LISTEN connection per API process, for every channel a part of the process
 * follows (the change feed, credential changes). NOTIFY is sent inside the changing transaction
 * and delivered on commit to every process on the database, whichever made the change.
 *
 * If the connection breaks (a database restart, a failover, a terminated backend), notifications
 * sent meanwhile are lost: every follower is told (`connected: false`) so it stops trusting what
 * it remembers, another connection is taken (retried every second), and followers are told again
 * (`connected: true`) once it listens — and should then re-read what they follow.
 */
@Injectable()
export class Notifications implements OnModuleInit, OnApplicationShutdown {
  private client: PoolClient | undefined;
  private readonly channels = new Map<string, ((payload: string) => void)[]>();
  private readonly stateListeners: ((connected: boolean) => void)[] = [];
  private stopped = false;
  private reconnecting = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Follows a channel; call it from a constructor, before the process starts listening. */
  on(channel: string, handler: (payload: string) => void): void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`channel names are lower-case identifiers: ${channel}`);
    this.channels.set(channel, [...(this.channels.get(channel) ?? []), handler]);
  }

  /** Called with true each time the process (again) listens, with false when the connection is lost. */
  onState(listener: (connected: boolean) => void): void {
    this.stateListeners.push(listener);
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  async onModuleInit(): Promise<void> {
    await this.listen();
    this.setState(true);
  }

  private async listen(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: { connect(): Promise<PoolClient> } }).master;
    const client = await pool.connect();
    client.on('notification', (n) => {
      for (const handler of this.channels.get(n.channel) ?? []) handler(n.payload ?? '');
    });
    client.on('error', (err: Error) => {
      // Once this client is given back (shutdown, or an earlier error) its errors are not ours.
      if (this.client !== client) return;
      this.client = undefined;
      client.release(err);
      if (this.stopped) return;
      this.logger.warn({ err }, 'notifications connection lost: reconnecting');
      this.setState(false);
      this.reconnect();
    });
    this.client = client;
    try {
      for (const channel of this.channels.keys()) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      if (this.client === client) {
        this.client = undefined;
        client.release(err as Error);
      }
      throw err;
    }
  }

  private reconnect(): void {
    if (this.stopped || this.reconnecting) return;
    this.reconnecting = true;
    const attempt = () => {
      if (this.stopped) return;
      this.listen().then(
        () => {
          this.reconnecting = false;
          this.setState(true);
        },
        () => setTimeout(attempt, 1000).unref(),
      );
    };
    setTimeout(attempt, 100).unref();
  }

  private setState(connected: boolean): void {
    for (const listener of this.stateListeners) listener(connected);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    this.setState(false);
    if (client) {
      await client.query('UNLISTEN *').catch(() => undefined);
      client.release();
    }
  }
}
