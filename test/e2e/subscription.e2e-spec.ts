import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** indicatorChanged over graphql-ws, across two server processes on one database. */
describe('indicatorChanged subscription', () => {
  let app: TestApp;
  let second: { url: string; child: ChildProcess };
  let coordinator: Party;
  let outsider: Party;
  beforeAll(async () => {
    app = await startTestApp();
    // A second API server, as its own process (the compiled service) on the same database:
    // changes made through this test's server must reach subscribers of that one.
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/api/src/main.js')], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: app.db.url, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    second = { url: `http://127.0.0.1:${port}`, child };
    for (let i = 0; ; i++) {
      if (await fetch(`${second.url}/health`).then((r) => r.ok, () => false)) break;
      if (i > 300 || child.exitCode !== null) throw new Error('second server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    outsider = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
  });
  afterAll(async () => {
    if (second) {
      second.child.kill('SIGTERM');
      await new Promise((r) => second.child.once('exit', r));
    }
    await app?.stop();
  });

  function subscribe(url: string, key: TestKey) {
    const received: { change: string; status: string; indicatorId: string }[] = [];
    const client = createClient({
      url: url.replace('http', 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: async () => ({ authorization: `Bearer ${await tokenFor(key)}` }),
      retryAttempts: 0,
    });
    const errors: unknown[] = [];
    const done = client.subscribe(
      { query: 'subscription { indicatorChanged { change status indicatorId } }' },
      { next: (msg) => received.push((msg.data as { indicatorChanged: (typeof received)[number] }).indicatorChanged), error: (e) => errors.push(e), complete: () => undefined },
    );
    return { received, errors, close: () => { done(); return client.dispose(); } };
  }

  async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('delivers a change made through another server process within a second, with the same visibility as the feed', async () => {
    const watcher = subscribe(second.url, outsider.key);
    const coordWatcher = subscribe(second.url, coordinator.key);
    try {
      await new Promise((r) => setTimeout(r, 300)); // let the subscriptions start
      const started = Date.now();
      const open = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() } }) }, coordinator.key);
      const openId = open.data!.submitStatement.indicator.id;
      await waitFor(() => watcher.received.some((c) => c.indicatorId === openId));
      expect(Date.now() - started).toBeLessThan(1000);
      const red = await app.gql(SUBMIT, { jws: await statement(coordinator.key, { iss: coordinator.principalId, tlp: 'RED' }) }, coordinator.key);
      const redId = red.data!.submitStatement.indicator.id;
      await waitFor(() => coordWatcher.received.some((c) => c.indicatorId === redId));
      await new Promise((r) => setTimeout(r, 200));
      expect(watcher.received.map((c) => c.indicatorId)).not.toContain(redId);
      expect(watcher.received.find((c) => c.indicatorId === openId)).toEqual({ change: 'CREATED', status: 'ACTIVE', indicatorId: openId });
      expect(watcher.errors).toEqual([]);
    } finally {
      await watcher.close();
      await coordWatcher.close();
    }
  });

  it('refuses a connection without a valid token', async () => {
    const { newKey } = await import('../support/keys.js');
    const stranger = subscribe(second.url, await newKey());
    await waitFor(() => stranger.errors.length > 0);
    await stranger.close();
  });
});
