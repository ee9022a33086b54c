import type { CordonConfig } from '@app/config';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { Clock } from '../../common/clock.js';
import type { Notifications } from '../../common/notifications.js';
import type { AuditService } from '../audit/audit.service.js';
import { MetricsService } from '../ops/metrics.service.js';
import type { RateLimits } from '../ops/rate-limits.js';
import { AuthService } from './auth.service.js';

/**
 * The key memory's rules, with the database and the notifications connection under the test's
 * control (the e2e suite credential-memory shows the same over HTTP with two processes).
 */
describe('AuthService key memory', () => {
  const row = { kid: 'k1', public_jwk: {}, principal_id: 'p', roles: ['SCREENER'], disabled: false, member_id: 'm', member_kind: 'CRYPTO_EXCHANGE', suspended: false };

  function setup() {
    const reads: { resolve: (rows: unknown[]) => void }[] = [];
    const dataSource = {
      query: () => new Promise<unknown[]>((resolve) => reads.push({ resolve })),
      // A credential transaction: its work runs (and "commits") at once.
      transaction: <T>(work: (em: unknown) => Promise<T>) => work({}),
    } as unknown as DataSource;
    const channels = new Map<string, () => void>();
    const states: ((connected: boolean) => void)[] = [];
    const notifications = {
      on: (channel: string, handler: () => void) => channels.set(channel, handler),
      onState: (listener: (connected: boolean) => void) => states.push(listener),
    } as unknown as Notifications;
    const metrics = new MetricsService({ query: async () => [] } as unknown as DataSource);
    const auth = new AuthService(
      dataSource,
      {} as AuditService,
      new Clock(),
      {} as CordonConfig,
      {} as Logger,
      {} as RateLimits,
      metrics,
      notifications,
    );
    const activeKey = (kid: string) => (auth as unknown as { activeKey(kid: string): Promise<unknown> }).activeKey(kid);
    /** Reads a key, answering the database read if one is made; says whether one was. */
    const read = async (kid = 'k1'): Promise<boolean> => {
      const before = reads.length;
      const pending = activeKey(kid);
      await Promise.resolve();
      const queried = reads.length > before;
      if (queried) reads[reads.length - 1].resolve([row]);
      await pending;
      return queried;
    };
    const setState = (connected: boolean) => states.forEach((s) => s(connected));
    return { auth, reads, read, activeKey, setState, notify: () => channels.get('cordon_credentials')!() };
  }

  it('remembers nothing until the notifications connection listens', async () => {
    const { read, setState } = setup();
    expect(await read()).toBe(true);
    expect(await read()).toBe(true);
    setState(true);
    expect(await read()).toBe(true);
    expect(await read()).toBe(false);
  });

  it('forgets on a credential notification, on a lost connection (and stays forgetful), and after 10 s', async () => {
    const { read, setState, notify } = setup();
    setState(true);
    await read();
    notify();
    expect(await read()).toBe(true);
    expect(await read()).toBe(false);
    setState(false);
    expect(await read()).toBe(true);
    expect(await read()).toBe(true);
    setState(true);
    await read();
    const realNow = Date.now;
    const later = realNow() + 10_001;
    Date.now = () => later;
    try {
      expect(await read()).toBe(true);
    } finally {
      Date.now = realNow;
    }
  });

  it('does not remember a read that was under way when the memory was emptied (it may predate the change)', async () => {
    const { auth, reads, activeKey, read, setState } = setup();
    setState(true);
    const pending = activeKey('k1');
    await Promise.resolve();
    auth.forgetKeys(); // a revocation committed while the read was in flight
    reads[0].resolve([row]);
    await pending;
    expect(await read()).toBe(true);
  });

  it('forgets as a credential transaction of this process commits, before its caller goes on', async () => {
    const { auth, read, setState } = setup();
    setState(true);
    await read();
    expect(await read()).toBe(false);
    expect(await auth.credentialTransaction(async () => 'revoked')).toBe('revoked');
    expect(await read()).toBe(true);
  });

  it('never remembers an unknown kid', async () => {
    const { reads, activeKey, setState } = setup();
    setState(true);
    for (let i = 0; i < 2; i++) {
      const pending = activeKey('nobody');
      await Promise.resolve();
      reads[reads.length - 1].resolve([]);
      expect(await pending).toBeUndefined();
    }
    expect(reads).toHaveLength(2);
  });
});
