import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type ChildServer, spawnServer } from '../support/child-server.js';
import { type TestKey, tokenFor } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

/** indicatorChanged over graphql-ws, across two server processes on one database. */
describe('indicatorChanged subscription', () => {
  let app: TestApp;
  let second: ChildServer;
  let coordinator: Party;
  let outsider: Party;
  beforeAll(async () => {
    app = await startTestApp();
    // A second API server, as its own process (the compiled service) on the same database:
    // changes made through this test's server must reach subscribers of that one.
    second = await spawnServer({ DATABASE_URL: app.db.url });
    coordinator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'CURATOR']);
    outsider = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
  });
  afterAll(async () => {
    if (second) {
      second.child.kill('SIGTERM');
      await second.exited;
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
