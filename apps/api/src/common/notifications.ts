import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { LOGGER } from './tokens.js';

/** How often the LISTEN connection is checked, and how long its answer may take. */
const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 3_000;

/**
 * One PostgreSQL LISTEN connection per API process, for every channel a part of the process
 * follows (the change feed, credential changes). NOTIFY is sent inside the changing transaction
 * and delivered on commit to every process on the database, whichever made the change.
 *
 * If the connection breaks (a database restart, a failover, a terminated backend — or it leaves
 * the heartbeat query sent every 5 s unanswered for 3 s), notifications sent meanwhile are lost:
 * every follower is told (`connected: false`) so it stops trusting what it remembers, another
 * connection is taken (retried every second), and followers are told again (`connected: true`)
 * once it listens — and should then re-read what they follow.
 */
@Injectable()
export class Notifications implements OnModuleInit, OnApplicationShutdown {
  private client: PoolClient | undefined;
  private readonly channels = new Map<string, ((payload: string) => void)[]>();
  private readonly stateListeners: ((connected: boolean) => void)[] = [];
  private stopped = false;
  private reconnecting = false;
  private heartbeat?: NodeJS.Timeout;

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

  async onModuleInit(): Promise<void> {
    await this.listen();
    this.setState(true);
    // A connection can die without a word (a host gone, a middlebox dropping it): a query on it
    // every few seconds that does not answer in time counts as losing it.
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private async listen(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: { connect(): Promise<PoolClient> } }).master;
    const client = await pool.connect();
    if (this.stopped) {
      client.release();
      throw new Error('stopped');
    }
    client.on('notification', (n) => {
      for (const handler of this.channels.get(n.channel) ?? []) handler(n.payload ?? '');
    });
    client.on('error', (err: Error) => this.lost(client, err));
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

  /** The connection is gone (an error, or a heartbeat unanswered): tell everyone, take another. */
  private lost(client: PoolClient, err: Error): void {
    // Once this client is given back (shutdown, or an earlier loss) its errors are not ours.
    if (this.client !== client) return;
    this.client = undefined;
    client.release(err);
    if (this.stopped) return;
    this.logger.warn({ err }, 'notifications connection lost: reconnecting');
    this.setState(false);
    this.reconnect();
  }

  private async beat(): Promise<void> {
    const client = this.client;
    if (!client || this.stopped) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer on the notifications connection within ${HEARTBEAT_TIMEOUT_MS} ms`)), HEARTBEAT_TIMEOUT_MS);
    });
    try {
      await Promise.race([client.query('SELECT 1'), timeout]);
    } catch (err) {
      this.lost(client, err as Error);
    } finally {
      clearTimeout(timer);
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
          if (!this.stopped) this.setState(true);
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
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    this.setState(false);
    if (client) {
      await client.query('UNLISTEN *').catch(() => undefined);
      client.release();
    }
  }
}
