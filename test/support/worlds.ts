import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Clock } from '../../apps/api/src/common/clock.js';
import { superuserQuery } from './database.js';
import { newKey, type TestKey, tokenFor } from './keys.js';
import { addCategories, startTestApp, type TestApp } from './server.js';
import { statement } from './statements.js';

/**
 * Two worlds for the "remove the hidden statement" property (issue 16): two servers on two fresh
 * databases, the same members and keys in both, one shared clock. A script runs in both in lock
 * step — except its hidden steps, which run in the first world only. What a viewer sees in the
 * first world must then equal what it sees in the second, where the hidden statements never
 * existed, once ids (random per database) are replaced by stable labels.
 */

export type Who = 'C1' | 'C2' | 'X1' | 'X2' | 'P';
export const VIEWERS = ['X1', 'P'] as const;
export type Viewer = (typeof VIEWERS)[number];

const PARTIES: Record<Who, { name: string; kind: 'COORDINATOR' | 'CRYPTO_EXCHANGE' | 'CARD_PROCESSOR' }> = {
  C1: { name: 'Hotline One', kind: 'COORDINATOR' },
  C2: { name: 'Hotline Two', kind: 'COORDINATOR' },
  X1: { name: 'Exchange One', kind: 'CRYPTO_EXCHANGE' },
  X2: { name: 'Exchange Two', kind: 'CRYPTO_EXCHANGE' },
  P: { name: 'Processor', kind: 'CARD_PROCESSOR' },
};

export type Step =
  | {
      op: 'submit';
      who: Who;
      value: string;
      tlp: string;
      jti: string;
      shareWith?: Who[];
      confidence?: number;
      category?: string;
      site?: string;
      hidden?: boolean;
    }
  | { op: 'decide'; action: 'APPROVE' | 'REJECT' | 'REVOKE' | 'EXPIRE'; value: string; hidden?: boolean }
  | { op: 'dispute'; who: Who; value: string; reason: string; hidden?: boolean }
  | { op: 'resolve'; reason: string; upheld: boolean; note: string; hidden?: boolean }
  | { op: 'sighting'; who: Who; value: string; kind: 'SEEN' | 'FALSE_POSITIVE' | 'ACTIONED'; note: string; hidden?: boolean };

export const INDICATOR_FIELDS = `id kind network value fingerprint status confidence category tlp attestationCount firstSeenAt lastSeenAt
  supportedUntil version createdAt updatedAt sightings { seen falsePositive actioned } sites { fingerprint url }
  statements { id jws sha256 jti receivedAt issuedAt expiresAt tlp confidence category status receipt
    issuer { id name roles disabled member { id name kind suspended } keys { kid alg status publicJwk revokedAt revokedReason } } }`;

const SUBMIT_FULL = `mutation($jws: String!) { submitStatement(jws: $jws) { receipt indicator { ${INDICATOR_FIELDS} } statement { id sha256 jti status } } }`;
const DISPUTE_FULL = `mutation($id: ID!, $reason: String!) { disputeIndicator(id: $id, reason: $reason) { id reason status resolution createdAt resolvedAt member { id name } indicator { ${INDICATOR_FIELDS} } } }`;
const SIGHTING_FULL = `mutation($id: ID!, $kind: SightingKind!, $note: String) { reportSighting(indicatorId: $id, kind: $kind, note: $note) { id kind note createdAt indicator { ${INDICATOR_FIELDS} } } }`;

export interface World {
  app: TestApp;
  members: Record<Who, string>;
  principals: Record<Who, string>;
  /** dispute ids by reason */
  disputes: Map<string, string>;
  /** what each viewer's own mutations answered, in script order */
  answers: Record<Viewer, unknown[]>;
  subscriptions: Record<Viewer, { events: unknown[]; errors: unknown[]; close: () => Promise<void> }>;
}

export interface Worlds {
  keys: Record<Who, TestKey>;
  withHidden: World;
  without: World;
  /** runs a script in both worlds (hidden steps in withHidden only), one clock tick per step */
  run(script: Step[]): Promise<void>;
  /** everything a viewer can observe in a world, ids replaced by labels */
  observe(world: World, viewer: Viewer, values: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

async function gqlOk(app: TestApp, query: string, variables: Record<string, unknown>, key?: TestKey) {
  const res = await app.gql(query, variables, key);
  if (res.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(res.errors)}`);
  return res.data!;
}

export async function openWorlds(): Promise<Worlds> {
  const keys = Object.fromEntries(await Promise.all((Object.keys(PARTIES) as Who[]).map(async (w) => [w, await newKey()]))) as Record<Who, TestKey>;
  // One clock for both worlds: every step runs at the same time in both.
  let now = Date.now();
  const worlds: World[] = [];
  for (let i = 0; i < 2; i++) {
    // Whole views of hundreds of indicators in one query: past the default cost limit on purpose.
    const app = await startTestApp({ CORDON_MAX_QUERY_COST: '1000000' });
    await addCategories(app, ['HIDDEN_CAT', 'VISIBLE_CAT', 'FRAUD', 'SCAM']);
    app.server.app.get(Clock).now = () => new Date(now);
    const members = {} as Record<Who, string>;
    const principals = {} as Record<Who, string>;
    for (const who of Object.keys(PARTIES) as Who[]) {
      const m = await gqlOk(app, `mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }`, { i: PARTIES[who] });
      members[who] = m.createMember.id;
      const p = await gqlOk(app, `mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }`, {
        i: { memberId: members[who], name: `${who.toLowerCase()}-bot`, roles: ['CONTRIBUTOR', 'SCREENER'], publicJwk: keys[who].publicJwk },
      });
      principals[who] = p.createPrincipal.id;
    }
    const subscriptions = {} as World['subscriptions'];
    for (const viewer of VIEWERS) subscriptions[viewer] = subscribe(app.url, keys[viewer]);
    worlds.push({ app, members, principals, disputes: new Map(), answers: { X1: [], P: [] }, subscriptions });
  }
  await new Promise((r) => setTimeout(r, 400)); // the subscriptions start
  const [withHidden, without] = worlds;

  async function step(world: World, s: Step): Promise<void> {
    const { app } = world;
    const indicatorId = async (value: string) => {
      const [row] = await superuserQuery<{ id: string }>(app.db, `SELECT id FROM indicator WHERE kind = 'DOMAIN' AND value = $1`, [value]);
      return row?.id ?? randomUUID();
    };
    const viewer = (VIEWERS as readonly string[]).includes((s as { who?: string }).who ?? '') ? ((s as { who: Viewer }).who as Viewer) : undefined;
    const record = (answer: unknown) => viewer && world.answers[viewer].push(answer);
    switch (s.op) {
      case 'submit': {
        const jws = await statement(keys[s.who], {
          iss: world.principals[s.who],
          jti: s.jti,
          iat: Math.floor(now / 1000) - 1,
          indicator: { kind: 'DOMAIN', value: s.value },
          tlp: s.tlp,
          shareWith: (s.shareWith ?? []).map((w) => world.members[w]),
          confidence: s.confidence ?? 50,
          category: s.category ?? 'CSAM_COMMERCIAL',
          ...(s.site ? { evidence: { sites: [s.site], reference: `report ${s.jti}` } } : {}),
        });
        record(await app.gql(SUBMIT_FULL, { jws }, keys[s.who]));
        return;
      }
      case 'decide': {
        const id = await indicatorId(s.value);
        const q = {
          APPROVE: `mutation($id: ID!) { reviewIndicator(id: $id, decision: APPROVE) { id } }`,
          REJECT: `mutation($id: ID!) { reviewIndicator(id: $id, decision: REJECT) { id } }`,
          REVOKE: `mutation($id: ID!) { revokeIndicator(id: $id, reason: "false positive") { id } }`,
          EXPIRE: `mutation($id: ID!) { expireIndicator(id: $id) { id } }`,
        }[s.action];
        await app.gql(q, { id }, app.admin); // a refusal is an answer too: the curator sees everything
        return;
      }
      case 'dispute': {
        const res = await app.gql(DISPUTE_FULL, { id: await indicatorId(s.value), reason: s.reason }, keys[s.who]);
        if (res.data?.disputeIndicator) world.disputes.set(s.reason, res.data.disputeIndicator.id);
        record(res);
        return;
      }
      case 'resolve': {
        const id = world.disputes.get(s.reason);
        if (id) await app.gql(`mutation($id: ID!, $u: Boolean!, $n: String) { resolveDispute(id: $id, upheld: $u, note: $n) { id } }`, { id, u: s.upheld, n: s.note }, app.admin);
        return;
      }
      case 'sighting':
        record(await app.gql(SIGHTING_FULL, { id: await indicatorId(s.value), kind: s.kind, note: s.note }, keys[s.who]));
        return;
    }
  }

  return {
    keys,
    withHidden,
    without,
    async run(script) {
      for (const s of script) {
        // Close to real time (bearer tokens are checked against this clock), the same in both worlds.
        now = Math.max(now + 1, Date.now());
        await step(withHidden, s);
        if (!s.hidden) await step(without, s);
      }
    },
    async observe(world, viewer, values) {
      const key = keys[viewer];
      const { app } = world;
      const ids = await superuserQuery<{ id: string; value: string }>(app.db, `SELECT id, value FROM indicator WHERE kind = 'DOMAIN' AND value = ANY($1)`, [values]);
      const byValue = new Map(ids.map((r) => [r.value, r.id]));
      const single: Record<string, unknown> = {};
      const prefixes: Record<string, unknown> = {};
      for (const value of values) {
        single[value] = await app.gql(`query($id: ID!) { indicator(id: $id) { ${INDICATOR_FIELDS} } }`, { id: byValue.get(value) ?? randomUUID() }, key);
        const [{ fp }] = await superuserQuery<{ fp: string }>(app.db, `SELECT encode(sha256(convert_to('DOMAIN||' || $1::text, 'UTF8')), 'hex') AS fp`, [value]);
        prefixes[value] = await app.gql(`query($p: String!) { screenByPrefix(prefix: $p) { fingerprint status } }`, { p: fp.slice(0, 5) }, key);
      }
      const screenInputs = values.flatMap((v) => [{ kind: 'DOMAIN', value: v }, { kind: 'DOMAIN', value: `www.${v}` }, { kind: 'URL', value: `https://pay.${v}/checkout` }]);
      const batch = await app.gql(
        `query($inputs: [ScreenInput!]!) { screenBatch(inputs: $inputs) { input kind normalized valid error match matchedVia matchedValue pending disputed fingerprint indicator { ${INDICATOR_FIELDS} } } }`,
        { inputs: screenInputs },
        key,
      );
      const one = await app.gql(
        `query($v: String!) { screen(input: { kind: DOMAIN, value: $v }) { match matchedVia pending disputed indicator { ${INDICATOR_FIELDS} } } }`,
        { v: values[0] },
        key,
      );
      const list: unknown[] = [];
      for (let after: string | null = null; ; ) {
        const page: any = await app.gql(`query($a: String) { indicators(first: 100, after: $a) { edges { cursor node { ${INDICATOR_FIELDS} } } pageInfo { hasNextPage endCursor } } }`, { a: after }, key);
        list.push(page);
        if (!page.data?.indicators.pageInfo.hasNextPage) break;
        after = page.data.indicators.pageInfo.endCursor;
      }
      const filtered = await app.gql(`{ pending: indicators(first: 500, filter: { status: PENDING }) { edges { node { value } } }
        active: indicators(first: 500, filter: { status: ACTIVE }) { edges { node { value } } } }`, {}, key);
      const changes: unknown[] = [];
      for (let after: string | null = null; ; ) {
        const page: any = await app.gql(
          `query($a: String) { changes(first: 200, after: $a) { edges { cursor node { auditIndex change status at indicatorId indicator { id status version } } } pageInfo { hasNextPage endCursor } } }`,
          { a: after },
          key,
        );
        changes.push(page);
        if (!page.data?.changes.pageInfo.hasNextPage) break;
        after = page.data.changes.pageInfo.endCursor;
      }
      const disputes = await app.gql(`{ disputes(first: 500) { edges { node { id reason status resolution createdAt resolvedAt member { id } indicator { id status } } } } }`, {}, key);
      const notifications = await app.gql(`{ notifications(first: 500) { kind message createdAt readAt indicator { id status } } }`, {}, key);
      // Only what concerns these values: other tests write to one world alone.
      const ours = new Set(values);
      const ourIds = new Set(ids.map((r) => r.id));
      const nodes = (pages: any[], key: string) => pages.flatMap((p) => p.data?.[key].edges.map((e: any) => e.node) ?? [p]);
      const observed = {
        single,
        prefixes,
        batch,
        one,
        list: nodes(list, 'indicators').filter((n: any) => ours.has(n.value)),
        filtered: Object.fromEntries(
          Object.entries((filtered as any).data ?? {}).map(([k, v]: [string, any]) => [k, v.edges.map((e: any) => e.node.value).filter((x: string) => ours.has(x))]),
        ),
        changes: nodes(changes, 'changes').filter((n: any) => ourIds.has(n.indicatorId)),
        subscription: world.subscriptions[viewer].events.filter((e: any) => ourIds.has(e.indicatorId)),
        subscriptionErrors: world.subscriptions[viewer].errors,
        disputes: ((disputes as any).data?.disputes.edges ?? []).map((e: any) => e.node).filter((d: any) => ourIds.has(d.indicator.id)),
        notifications: ((notifications as any).data?.notifications ?? []).filter((x: any) => x.indicator && ourIds.has(x.indicator.id)),
        answers: world.answers[viewer],
      };
      return normalise(world, observed);
    },
    async stop() {
      for (const w of worlds) {
        for (const s of Object.values(w.subscriptions)) await s.close().catch(() => undefined);
        await w.app.stop();
      }
    },
  };
}

function subscribe(url: string, key: TestKey) {
  const events: unknown[] = [];
  const errors: unknown[] = [];
  const client = createClient({
    url: url.replace('http', 'ws') + '/graphql',
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await tokenFor(key)}` }),
    retryAttempts: 0,
  });
  const stop = client.subscribe(
    { query: 'subscription { indicatorChanged { auditIndex change status at indicatorId } }' },
    { next: (msg) => events.push(msg.data?.indicatorChanged), error: (e) => errors.push(String(e)), complete: () => undefined },
  );
  return {
    events,
    errors,
    close: async () => {
      stop();
      await client.dispose();
    },
  };
}

/** Waits until both worlds' subscribers have caught up with their feeds (the feed is the reference). */
export async function settle(worlds: Worlds): Promise<void> {
  for (const world of [worlds.withHidden, worlds.without]) {
    for (const viewer of VIEWERS) {
      let expected = -1;
      for (let i = 0; i < 200; i++) {
        const count = await feedLength(world, worlds.keys[viewer]);
        if (count === expected && world.subscriptions[viewer].events.length >= count) break;
        expected = count;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

async function feedLength(world: World, key: TestKey): Promise<number> {
  let n = 0;
  for (let after: string | null = null; ; ) {
    const page: any = await world.app.gql(`query($a: String) { changes(first: 500, after: $a) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, { a: after }, key);
    if (!page.data) throw new Error(`changes: ${JSON.stringify(page.errors)}`);
    n += page.data.changes.edges.length;
    if (!page.data.changes.pageInfo.hasNextPage) return n;
    after = page.data.changes.pageInfo.endCursor;
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/**
 * Replaces what differs between two databases by construction — ids, statement bytes and hashes
 * (each world's statements name its own principal ids), receipts and cursors (signed by each
 * world's exchange key, over audit indexes), audit indexes (the log also holds each world's own
 * set-up and screening events) — by labels: ids by what they name, audit indexes by their order
 * among those the viewer saw. Anything else a viewer can observe is compared as it is.
 */
async function normalise(world: World, observed: unknown): Promise<unknown> {
  const { app } = world;
  const labels = new Map<string, string>();
  for (const r of await superuserQuery<{ id: string; value: string }>(app.db, 'SELECT id, value FROM indicator')) labels.set(r.id, `indicator:${r.value}`);
  for (const r of await superuserQuery<{ id: string; jti: string; sha256: string; jws: string }>(app.db, 'SELECT id, jti, sha256, jws FROM statement')) {
    labels.set(r.id, `statement:${r.jti}`);
    labels.set(r.jti, `jti:${r.jti}`);
    labels.set(r.sha256, `sha256:${r.jti}`);
    labels.set(r.jws, `jws:${r.jti}`);
  }
  for (const r of await superuserQuery<{ id: string; name: string }>(app.db, 'SELECT id, name FROM member')) labels.set(r.id, `member:${r.name}`);
  for (const r of await superuserQuery<{ id: string; name: string }>(app.db, 'SELECT id, name FROM principal')) labels.set(r.id, `principal:${r.name}`);
  for (const r of await superuserQuery<{ id: string; reason: string }>(app.db, 'SELECT id, reason FROM dispute')) labels.set(r.id, `dispute:${r.reason}`);
  for (const r of await superuserQuery<{ id: string; note: string }>(app.db, 'SELECT id, note FROM sighting')) labels.set(r.id, `sighting:${r.note}`);
  const indexes = new Set<number>();
  const collect = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) v.forEach((x) => collect(x));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, k);
    else if (key === 'auditIndex' && typeof v === 'number') indexes.add(v);
  };
  collect(observed);
  const rank = new Map([...indexes].sort((a, b) => a - b).map((n, i) => [n, i]));
  const walk = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (key === 'auditIndex' && typeof v === 'number') return `audit#${rank.get(v)}`;
    if (typeof v !== 'string') return v;
    if ((key === 'cursor' || key === 'endCursor') && v) return '<cursor>';
    if (key === 'receipt' && v) return '<receipt>';
    const label = labels.get(v);
    if (label) return label;
    return v.replace(UUID, (id) => labels.get(id) ?? `<unknown ${id}>`);
  };
  return walk(observed);
}
