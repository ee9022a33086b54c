import { execFile } from 'node:child_process';
import path from 'node:path';
import * as jose from 'jose';
import { spawnServer } from '../support/child-server.js';
import { superuserQuery } from '../support/database.js';
import { tokenFor } from '../support/keys.js';
import { expectError } from '../support/refusals.js';
import { createMemberWithPrincipal, type GraphqlResponse, post, startTestApp, type TestApp } from '../support/server.js';
import { statement, SUBMIT } from '../support/statements.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

interface Checkpoint {
  treeSize: number;
  rootHash: string;
  issuedAt: string;
  signature: string;
}
interface Verdict {
  consistency: boolean[];
  inclusion: boolean[];
  roots: Record<string, string>;
}

/** The outside client: RFC 9162 checks written in Python from the RFC, no code shared with us. */
function outsideClient(job: unknown): Promise<Verdict> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', [path.join(ROOT, 'test/support/outside/rfc9162.py')], { maxBuffer: 64 << 20 }, (err, stdout) =>
      err ? reject(err) : resolve(JSON.parse(stdout) as Verdict),
    );
    child.stdin!.end(JSON.stringify(job));
  });
}


const CHECKPOINT = '{ auditCheckpoint { treeSize rootHash issuedAt signature } }';
const INCLUSION = 'query($i: BigInt!, $n: BigInt!) { auditInclusionProof(index: $i, treeSize: $n) { index treeSize leafHash path } }';
const CONSISTENCY = 'query($m: BigInt!, $n: BigInt!) { auditConsistencyProof(fromSize: $m, toSize: $n) { fromSize toSize path } }';
const EVENTS = `query($first: Int, $after: String, $filter: AuditEventFilter) {
  auditEvents(first: $first, after: $after, filter: $filter) {
    edges { cursor node { index at action actorPrincipalId actorMemberId subjectId subjectMemberId canonical leafHash } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('audit transparency log (SPEC 6)', () => {
  let app: TestApp;
  let auditor: Awaited<ReturnType<typeof createMemberWithPrincipal>>;

  beforeAll(async () => {
    app = await startTestApp();
    auditor = await createMemberWithPrincipal(app, 'COORDINATOR', ['AUDITOR']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function checkpoint(): Promise<Checkpoint> {
    const res = await app.gql<{ auditCheckpoint: Checkpoint }>(CHECKPOINT);
    expect(res.errors).toBeUndefined();
    return res.data!.auditCheckpoint;
  }

  /** Every event, as the coordinator's auditor pages through them. */
  async function allEvents(): Promise<{ index: number; canonical: string; leafHash: string; action: string }[]> {
    const out = [];
    let after: string | null = null;
    for (;;) {
      const res: GraphqlResponse = await app.gql(EVENTS, { first: 500, after }, auditor.key);
      expect(res.errors).toBeUndefined();
      out.push(...res.data!.auditEvents.edges.map((e: { node: unknown }) => e.node));
      if (!res.data!.auditEvents.pageInfo.hasNextPage) return out;
      after = res.data!.auditEvents.pageInfo.endCursor;
    }
  }

  it('signs checkpoints with the exchange key over exactly {treeSize, rootHash, issuedAt}', async () => {
    const c = await checkpoint();
    const jwks = jose.createLocalJWKSet((await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as jose.JSONWebKeySet);
    const { payload, protectedHeader } = await jose.compactVerify(c.signature, jwks);
    expect(protectedHeader.typ).toBe('cordon-checkpoint+jwt');
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ treeSize: c.treeSize, rootHash: c.rootHash, issuedAt: c.issuedAt });
    expect(c.rootHash).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof c.treeSize).toBe('number');
    // The signature covers the tree: another root with the same signature does not verify.
    const [h, , s] = c.signature.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(payload)), rootHash: '0'.repeat(64) })).toString('base64url')}.${s}`;
    await expect(jose.compactVerify(forged, jwks)).rejects.toThrow();
  });

  it('an outside client checks consistency between two checkpoints and inclusion of an event with its own RFC 9162 code', async () => {
    const first = await checkpoint();
    // More events: members and principals created, a statement accepted.
    const contributor = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR']);
    const submitted = await app.gql(SUBMIT, { jws: await statement(contributor.key, { iss: contributor.principalId }) }, contributor.key);
    expect(submitted.errors).toBeUndefined();
    const receipt = jose.decodeJwt(submitted.data!.submitStatement.receipt) as { auditIndex: number; statementSha256: string };
    const second = await checkpoint();
    expect(second.treeSize).toBeGreaterThan(first.treeSize);

    const consistency = (await app.gql(CONSISTENCY, { m: first.treeSize, n: second.treeSize })).data!.auditConsistencyProof;
    expect(consistency).toMatchObject({ fromSize: first.treeSize, toSize: second.treeSize });
    const inclusion = (await app.gql(INCLUSION, { i: receipt.auditIndex, n: second.treeSize })).data!.auditInclusionProof;
    const events = await allEvents();
    expect(events.map((e) => e.index)).toEqual([...Array(events.length).keys()]); // gapless from 0
    const accepted = events[receipt.auditIndex];
    expect(accepted.action).toBe('statements.accept');
    expect(accepted.canonical).toContain(receipt.statementSha256);

    const verdict = await outsideClient({
      checkpoints: [first, second],
      events: events.map((e) => e.canonical),
      consistency: [
        { ...consistency, fromRoot: first.rootHash, toRoot: second.rootHash },
        // tampered: a wrong old root must not verify
        { ...consistency, fromRoot: 'ff'.repeat(32), toRoot: second.rootHash },
      ],
      inclusion: [
        { ...inclusion, root: second.rootHash },
        { ...inclusion, index: inclusion.index + 1, root: second.rootHash },
      ],
    });
    expect(verdict.consistency).toEqual([true, false]);
    expect(verdict.inclusion).toEqual([true, false]);
    // The roots recomputed from the events' canonical bytes are the signed ones.
    expect(verdict.roots).toEqual({ [first.treeSize]: first.rootHash, [second.treeSize]: second.rootHash });
    // The inclusion proof's leaf is the event's bytes hashed as RFC 9162 says.
    expect(inclusion.leafHash).toBe(accepted.leafHash);
  });

  it('answers proofs at every size for every index of a small log (checked by the outside client)', async () => {
    for (let i = 0; i < 40; i++) await app.gql(`mutation { createMember(input: { name: "filler-${i}", kind: CARD_PROCESSOR }) { id } }`);
    const c = await checkpoint();
    const n = Math.min(c.treeSize, 40);
    const inclusion = [];
    const consistency = [];
    for (let size = 1; size <= n; size++) {
      for (const index of new Set([0, size - 1, Math.floor(size / 2)])) {
        inclusion.push({ ...(await app.gql(INCLUSION, { i: index, n: size })).data!.auditInclusionProof });
      }
      consistency.push({ ...(await app.gql(CONSISTENCY, { m: Math.max(1, Math.floor(size / 3)), n: size })).data!.auditConsistencyProof });
    }
    const events = (await allEvents()).map((e) => e.canonical);
    const sizes = [...new Set([...inclusion.map((p) => p.treeSize), ...consistency.flatMap((p) => [p.fromSize, p.toSize])])];
    const { roots } = await outsideClient({ checkpoints: sizes.map((treeSize) => ({ treeSize })), events });
    const verdict = await outsideClient({
      inclusion: inclusion.map((p) => ({ ...p, root: roots[p.treeSize] })),
      consistency: consistency.map((p) => ({ ...p, fromRoot: roots[p.fromSize], toRoot: roots[p.toSize] })),
    });
    expect(verdict.inclusion.every(Boolean)).toBe(true);
    expect(verdict.consistency.every(Boolean)).toBe(true);
    expect(verdict.inclusion.length).toBeGreaterThan(40);
  });

  it('takes sizes beyond 2^31 as literals and refuses what the log does not have, naming the argument', async () => {
    const literal = await app.gql('{ auditInclusionProof(index: 3000000000, treeSize: 3000000001) { index } }');
    expectError(literal, 'BAD_USER_INPUT', /^treeSize: the log has \d+ events$/);
    expectError(await app.gql(INCLUSION, { i: 5, n: 5 }), 'BAD_USER_INPUT', 'index: must be less than treeSize (5)');
    expectError(await app.gql(INCLUSION, { i: 0, n: 0 }), 'BAD_USER_INPUT', /^treeSize: must be a whole number of at least 1$/);
    expectError(await app.gql(INCLUSION, { i: -1, n: 3 }), 'BAD_USER_INPUT', /^index: /);
    expectError(await app.gql(CONSISTENCY, { m: 4, n: 3 }), 'BAD_USER_INPUT', 'fromSize: must not exceed toSize (3)');
    expectError(await app.gql(CONSISTENCY, { m: 0, n: 3 }), 'BAD_USER_INPUT', /^fromSize: /);
    const huge = await app.gql('{ auditConsistencyProof(fromSize: 1, toSize: 99999999999999999999) { toSize } }');
    expectError(huge, 'BAD_USER_INPUT', /BigInt cannot represent/);
  });

  it('shows an AUDITOR of a coordinator every event, other AUDITORs only their own member’s, and nobody else any', async () => {
    const exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['AUDITOR', 'SCREENER']);
    await app.gql('{ screen(input: { fingerprint: "' + 'a'.repeat(64) + '" }) { match } }', {}, exchange.key);
    const own = await app.gql(EVENTS, { first: 500 }, exchange.key);
    expect(own.errors).toBeUndefined();
    const nodes = own.data!.auditEvents.edges.map((e: { node: { actorMemberId: string; subjectMemberId: string; action: string } }) => e.node);
    expect(nodes.length).toBeGreaterThanOrEqual(2); // its creation events and its screening call
    for (const n of nodes) expect([n.actorMemberId, n.subjectMemberId]).toContain(exchange.memberId);
    expect(nodes.map((n: { action: string }) => n.action)).toContain('screen');

    const everything = await allEvents();
    expect(everything.length).toBeGreaterThan(nodes.length);

    const screener = await createMemberWithPrincipal(app, 'COORDINATOR', ['SCREENER']);
    expectError(await app.gql(EVENTS, {}, screener.key), 'FORBIDDEN');
    expect((await post(app.url, { query: EVENTS })).status).toBe(401);
  });

  it('filters by action, actor and time, and pages with cursors', async () => {
    const byAction = await app.gql(EVENTS, { first: 2, filter: { action: 'member.create' } }, auditor.key);
    const page1 = byAction.data!.auditEvents;
    expect(page1.edges).toHaveLength(2);
    for (const e of page1.edges) expect(e.node.action).toBe('member.create');
    const page2 = (await app.gql(EVENTS, { first: 2, after: page1.pageInfo.endCursor, filter: { action: 'member.create' } }, auditor.key)).data!.auditEvents;
    expect(page2.edges[0].node.index).toBeGreaterThan(page1.edges[1].node.index);

    const byActor = (await app.gql(EVENTS, { first: 500, filter: { actorPrincipalId: app.adminId } }, auditor.key)).data!.auditEvents.edges;
    expect(byActor.length).toBeGreaterThan(0);
    for (const e of byActor) expect(e.node.actorPrincipalId).toBe(app.adminId);

    const future = (await app.gql(EVENTS, { filter: { since: new Date(Date.now() + 3600_000).toISOString() } }, auditor.key)).data!.auditEvents.edges;
    expect(future).toEqual([]);
    expectError(await app.gql(EVENTS, { after: 'not-a-cursor' }, auditor.key), 'BAD_USER_INPUT', 'after: is not a cursor returned by this query');
    expectError(await app.gql(EVENTS, { first: 0 }, auditor.key), 'BAD_USER_INPUT', /^first: /);
  });

  it('sequences events from concurrent writers in two server processes without gaps, and the whole log verifies', async () => {
    const { url: secondUrl, child } = await spawnServer({ DATABASE_URL: app.db.url });
    try {
      const before = await checkpoint();
      const screener = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
      const token = await tokenFor(screener.key);
      const adminToken = await tokenFor(app.admin);
      // 120 writers at once, half through each process, interleaved: member creations (their own
      // transactions), screening calls and refused sign-ins (both group-committed).
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) => {
          const url = i % 2 === 0 ? app.url : secondUrl;
          if (i % 3 === 0) return post(url, { query: `mutation { createMember(input: { name: "parallel-${i}", kind: CARD_PROCESSOR }) { id } }` }, adminToken);
          if (i % 3 === 1) return post(url, { query: `{ screen(input: { fingerprint: "${i.toString(16).padStart(64, '0')}" }) { match } }` }, token);
          return post(url, { query: '{ me { id } }' }, 'not-a-token');
        }),
      );
      for (const [i, r] of results.entries()) {
        if (i % 3 === 2) expect(r.status).toBe(401);
        else expect(r.errors).toBeUndefined();
      }
      const after = await checkpoint();
      const events = await allEvents();
      expect(events.map((e) => e.index)).toEqual([...Array(events.length).keys()]);
      expect(after.treeSize).toBeGreaterThanOrEqual(before.treeSize + 120);
      const consistency = (await app.gql(CONSISTENCY, { m: before.treeSize, n: after.treeSize })).data!.auditConsistencyProof;
      const verdict = await outsideClient({
        checkpoints: [before, after],
        events: events.map((e) => e.canonical),
        consistency: [{ ...consistency, fromRoot: before.rootHash, toRoot: after.rootHash }],
      });
      expect(verdict.roots[after.treeSize]).toBe(after.rootHash);
      expect(verdict.consistency).toEqual([true]);
      // Each stored leaf hash is the hash of its stored bytes.
      const [{ bad }] = await superuserQuery<{ bad: string }>(
        app.db,
        `SELECT count(*)::text AS bad FROM audit_event WHERE leaf_hash <> sha256(decode('00', 'hex') || convert_to(canonical, 'UTF8'))`,
      );
      expect(bad).toBe('0');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
