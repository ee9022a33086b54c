import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { superuserQuery } from '../support/database.js';
import { statement, SUBMIT, SUBMIT_MANY } from '../support/statements.js';
import { openWorlds, settle, type Step, VIEWERS, type Viewer, type Who, type Worlds } from '../support/worlds.js';

/**
 * Per-viewer truth (issue 16): what a member sees of an indicator is computed only from the
 * statements it may see. The property: a viewer's answers — every read path, its feed and
 * subscription, its own submissions' and disputes' answers — with a hidden statement present equal
 * its answers on a database where that statement never existed (ids normalised).
 */
describe('per-viewer truth (issue 16)', () => {
  let worlds: Worlds;
  beforeAll(async () => {
    worlds = await openWorlds();
  }, 60_000);
  afterAll(async () => {
    await worlds?.stop();
  });

  let n = 0;
  const domain = (tag: string) => `${tag}-${++n}-${randomUUID().slice(0, 6)}.example`;
  const jti = () => randomUUID();

  /** Runs the script in both worlds and compares what each viewer observes of these values. */
  async function expectEquivalent(script: Step[], values: string[]) {
    await worlds.run(script);
    await settle(worlds);
    const observed: Record<string, { withHidden: unknown; without: unknown }> = {};
    for (const viewer of VIEWERS) {
      const withHidden = await worlds.observe(worlds.withHidden, viewer, values);
      const without = await worlds.observe(worlds.without, viewer, values);
      expect(withHidden).toEqual(without);
      observed[viewer] = { withHidden, without };
    }
    return observed as Record<Viewer, { withHidden: any; without: any }>;
  }

  const GQL_INDICATOR = `query($id: ID!) { indicator(id: $id) { status version firstSeenAt createdAt updatedAt attestationCount confidence category tlp statements { jti status } } }`;
  const idOf = async (world: 'withHidden' | 'without', value: string) =>
    (await superuserQuery<{ id: string }>(worlds[world].app.db, `SELECT id FROM indicator WHERE value = $1`, [value]))[0].id;

  describe('the cases found by attack', () => {
    it('a contributor’s own statement on a value a coordinator lists as RED answers as its own, PENDING — also when the hidden one is revoked', async () => {
      const listed = domain('hidden-red');
      const revoked = domain('hidden-revoked');
      const script: Step[] = [
        { op: 'submit', who: 'C2', value: listed, tlp: 'RED', jti: jti(), confidence: 95, category: 'HIDDEN_CAT', site: `https://${listed}/pay`, hidden: true },
        { op: 'submit', who: 'C2', value: revoked, tlp: 'RED', jti: jti(), hidden: true },
        { op: 'decide', action: 'REVOKE', value: revoked, hidden: true },
        { op: 'submit', who: 'X1', value: listed, tlp: 'GREEN', jti: jti(), confidence: 40 },
        { op: 'submit', who: 'X1', value: revoked, tlp: 'GREEN', jti: jti(), confidence: 40 },
      ];
      const seen = await expectEquivalent(script, [listed, revoked]);
      const [first, second] = seen.X1.withHidden.answers.slice(-2).map((a: any) => a.data.submitStatement.indicator);
      for (const answer of [first, second]) {
        expect(answer).toMatchObject({ status: 'PENDING', version: 1, attestationCount: 1, confidence: 40, category: 'CSAM_COMMERCIAL', tlp: 'GREEN', sites: [] });
        expect(answer.statements).toHaveLength(1);
        expect(answer.firstSeenAt).toBe(answer.statements[0].receivedAt);
        expect(answer.createdAt).toBe(answer.statements[0].receivedAt);
      }
      // The exchange's feed: its own statement, created — no hidden history.
      const feed = seen.X1.withHidden.changes;
      for (const value of [listed, revoked]) {
        expect(feed.filter((c: any) => c.indicatorId === `indicator:${value}`).map((c: any) => [c.change, c.status])).toEqual([['CREATED', 'PENDING']]);
      }
      // Screening does not match on the strength of the hidden statement.
      const rows = seen.X1.withHidden.batch.data.screenBatch;
      expect(rows.filter((r: any) => r.normalized === listed || r.normalized === revoked).map((r: any) => r.match)).toEqual([false, false]);
      // A coordinator sees both statements: ACTIVE (and REVOKED) as before.
      const asCoordinator = await worlds.withHidden.app.gql(GQL_INDICATOR, { id: await idOf('withHidden', listed) }, worlds.keys.C1);
      expect(asCoordinator.data!.indicator).toMatchObject({ status: 'ACTIVE', attestationCount: 2 });
      const revokedForCoordinator = await worlds.withHidden.app.gql(GQL_INDICATOR, { id: await idOf('withHidden', revoked) }, worlds.keys.C1);
      expect(revokedForCoordinator.data!.indicator.status).toBe('REVOKED');
    });

    it('lends no hidden standing to an unreviewed CLEAR statement: a third member does not match it', async () => {
      const value = domain('lent');
      const seen = await expectEquivalent(
        [
          { op: 'submit', who: 'C2', value, tlp: 'RED', jti: jti(), hidden: true },
          { op: 'submit', who: 'X1', value, tlp: 'CLEAR', jti: jti() },
        ],
        [value],
      );
      const row = seen.P.withHidden.batch.data.screenBatch.find((r: any) => r.normalized === value);
      expect(row).toMatchObject({ match: false, pending: false, indicator: null });
      expect(seen.P.withHidden.single[value].data.indicator).toMatchObject({ status: 'PENDING', attestationCount: 1 });
    });

    it('a coordinator’s RED statement on a GREEN indicator adds no change, version or time to others’ view', async () => {
      const value = domain('attested');
      const seen = await expectEquivalent(
        [
          { op: 'submit', who: 'X1', value, tlp: 'GREEN', jti: jti() },
          { op: 'decide', action: 'APPROVE', value },
          { op: 'submit', who: 'C2', value, tlp: 'RED', jti: jti(), confidence: 99, hidden: true },
        ],
        [value],
      );
      const view = seen.P.withHidden.single[value].data.indicator;
      expect(view).toMatchObject({ status: 'ACTIVE', version: 2, confidence: 50 });
      expect(view.updatedAt).toBe(seen.P.without.single[value].data.indicator.updatedAt);
      const entries = seen.P.withHidden.subscription.filter((c: any) => c.indicatorId === `indicator:${value}`);
      expect(entries.map((c: any) => c.change)).toEqual(['CREATED', 'STATUS']);
    });

    it('stops matching for others once the only statement they see has expired, whatever a hidden one says', async () => {
      const value = domain('lapsed');
      const exp = Math.floor(Date.now() / 1000) + 2;
      const { withHidden: app } = worlds;
      const jws = await statement(worlds.keys.C1, { iss: app.principals.C1, indicator: { kind: 'DOMAIN', value }, tlp: 'GREEN', exp });
      expect((await app.app.gql(SUBMIT, { jws }, worlds.keys.C1)).errors).toBeUndefined();
      const red = await statement(worlds.keys.C2, { iss: app.principals.C2, indicator: { kind: 'DOMAIN', value }, tlp: 'RED' });
      expect((await app.app.gql(SUBMIT, { jws: red }, worlds.keys.C2)).errors).toBeUndefined();
      const screen = `query($v: String!) { screen(input: { kind: DOMAIN, value: $v }) { match indicator { status } } }`;
      expect((await app.app.gql(screen, { v: value }, worlds.keys.P)).data!.screen.match).toBe(true);
      while (Date.now() / 1000 <= exp + 0.5) await new Promise((r) => setTimeout(r, 200));
      expect((await app.app.gql(screen, { v: value }, worlds.keys.P)).data!.screen).toEqual({ match: false, indicator: null });
      const id = await idOf('withHidden', value);
      expect((await app.app.gql(GQL_INDICATOR, { id }, worlds.keys.P)).data!.indicator).toMatchObject({ status: 'EXPIRED', attestationCount: 0, confidence: 0 });
      // A coordinator still sees its RED statement's standing.
      expect((await app.app.gql(screen, { v: value }, worlds.keys.C1)).data!.screen).toEqual({ match: true, indicator: { status: 'ACTIVE' } });
    });

    it('shows another member’s issuer by name, member and signing key only: no roles, flags, last use or revocation details', async () => {
      const { withHidden: world } = worlds;
      const { newKey } = await import('../support/keys.js');
      const key = await newKey();
      const added = await world.app.gql(`mutation($p: ID!, $k: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $k) { kid } }`, {
        p: world.principals.X2,
        k: key.publicJwk,
      });
      expect(added.errors).toBeUndefined();
      const value = domain('issuer');
      const jws = await statement(key, { iss: world.principals.X2, indicator: { kind: 'DOMAIN', value }, tlp: 'GREEN' });
      const submitted = await world.app.gql(SUBMIT, { jws }, key);
      expect(submitted.errors).toBeUndefined();
      const revoked = await world.app.gql(`mutation($k: ID!) { revokePrincipalKey(kid: $k, reason: "laptop stolen in Lisbon") { kid } }`, { k: key.kid });
      expect(revoked.errors).toBeUndefined();
      const q = `query($id: ID!) { indicator(id: $id) { statements { issuer { name roles disabled createdAt member { name } keys { kid status lastUsedAt revokedAt revokedReason } } } } }`;
      const id = submitted.data!.submitStatement.indicator.id;
      const asOther = await world.app.gql(q, { id }, worlds.keys.P);
      expect(asOther.data!.indicator.statements[0].issuer).toEqual({
        name: 'x2-bot',
        roles: [],
        disabled: null,
        createdAt: null,
        member: { name: 'Exchange Two' },
        keys: [{ kid: key.kid, status: 'REVOKED', lastUsedAt: null, revokedAt: null, revokedReason: null }],
      });
      expect(JSON.stringify(asOther)).not.toContain('Lisbon');
      const asOwn = await world.app.gql(q, { id }, worlds.keys.X2);
      expect(asOwn.data!.indicator.statements[0].issuer.keys.find((k: { kid: string }) => k.kid === key.kid).revokedReason).toBe('laptop stolen in Lisbon');
    });

    it('gives a coordinator one category for one indicator on every path: the most supporting members’, not the most statements’', async () => {
      const { withHidden: world } = worlds;
      const value = domain('category');
      for (let i = 0; i < 3; i++) {
        const jws = await statement(worlds.keys.X1, { iss: world.principals.X1, indicator: { kind: 'DOMAIN', value }, tlp: 'GREEN', category: 'FRAUD' });
        expect((await world.app.gql(SUBMIT, { jws }, worlds.keys.X1)).errors).toBeUndefined();
      }
      for (const who of ['P', 'X2'] as const) {
        const jws = await statement(worlds.keys[who], { iss: world.principals[who], indicator: { kind: 'DOMAIN', value }, tlp: 'GREEN', category: 'SCAM' });
        expect((await world.app.gql(SUBMIT, { jws }, worlds.keys[who])).errors).toBeUndefined();
      }
      const id = await idOf('withHidden', value);
      const one = await world.app.gql(`query($id: ID!) { indicator(id: $id) { category } }`, { id }, world.app.admin);
      const list = await world.app.gql(`{ indicators(first: 500) { edges { node { id category } } } }`, {}, world.app.admin);
      const queue = await world.app.gql(`{ reviewQueue(first: 500) { edges { node { id category } } } }`, {}, world.app.admin);
      const screened = await world.app.gql(`query($v: String!) { screen(input: { kind: DOMAIN, value: $v }) { indicator { category } } }`, { v: value }, world.app.admin);
      expect(one.data!.indicator.category).toBe('SCAM');
      expect(list.data!.indicators.edges.find((e: any) => e.node.id === id).node.category).toBe('SCAM');
      expect(queue.data!.reviewQueue.edges.find((e: any) => e.node.id === id).node.category).toBe('SCAM');
      expect(screened.data!.screen.indicator.category).toBe('SCAM'); // a curator matches PENDING
    });

    it('refuses a statement whose iss is not the caller’s own principal (FOREIGN_ISSUER), also when it is stored already, and answers nothing of it', async () => {
      const { withHidden: world } = worlds;
      const value = domain('foreign');
      const jws = await statement(worlds.keys.X1, { iss: world.principals.X1, indicator: { kind: 'DOMAIN', value }, tlp: 'RED' });
      expect((await world.app.gql(SUBMIT, { jws }, worlds.keys.X1)).errors).toBeUndefined();
      for (const who of ['P', 'C1'] as const) {
        const one = await world.app.gql(SUBMIT, { jws }, worlds.keys[who]);
        expect(one.data).toBeNull();
        expect(one.errors![0].extensions).toMatchObject({ code: 'FOREIGN_ISSUER' });
        expect(JSON.stringify(one)).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
        const many = await world.app.gql(SUBMIT_MANY, { jws: [jws] }, worlds.keys[who]);
        expect(many.data!.submitStatements).toEqual([{ ok: false, code: 'FOREIGN_ISSUER', error: expect.stringMatching(/^iss: /), result: null }]);
      }
      // A fresh one too, before any signature or key is looked at.
      const fresh = await statement(worlds.keys.X1, { iss: world.principals.X1, indicator: { kind: 'DOMAIN', value: domain('foreign2') } });
      expect((await world.app.gql(SUBMIT, { jws: fresh }, worlds.keys.P)).errors![0].extensions!.code).toBe('FOREIGN_ISSUER');
    });

    it('counts only sightings given on evidence the viewer sees too', async () => {
      const value = domain('sighted');
      const seen = await expectEquivalent(
        [
          { op: 'submit', who: 'X2', value, tlp: 'AMBER_STRICT', jti: jti(), hidden: true },
          { op: 'sighting', who: 'X2', value, kind: 'FALSE_POSITIVE', note: `fp-${value}`, hidden: true },
          { op: 'submit', who: 'X1', value, tlp: 'GREEN', jti: jti() },
          { op: 'sighting', who: 'X2', value, kind: 'SEEN', note: `seen-${value}` },
        ],
        [value],
      );
      expect(seen.P.withHidden.single[value].data.indicator.sightings).toEqual({ seen: 1, falsePositive: 0, actioned: 0 });
    });
  });

  describe('the equivalence matrix: hidden statement × visible statement × order × what follows × viewer', () => {
    const HIDDEN = [
      { name: 'a coordinator’s RED statement (ACTIVE at once)', who: 'C2' as Who, tlp: 'RED' },
      { name: 'an exchange’s AMBER_STRICT statement (PENDING)', who: 'X2' as Who, tlp: 'AMBER_STRICT' },
      { name: 'an exchange’s RED statement, approved alone', who: 'X2' as Who, tlp: 'RED', approved: true },
    ];
    const VISIBLE = [
      { name: 'an exchange’s GREEN statement', who: 'X1' as Who, tlp: 'GREEN' },
      { name: 'a coordinator’s CLEAR statement', who: 'C1' as Who, tlp: 'CLEAR' },
      { name: 'a processor’s AMBER statement', who: 'P' as Who, tlp: 'AMBER' },
    ];
    const AFTER: { name: string; steps: (value: string) => Step[] }[] = [
      { name: 'nothing', steps: () => [] },
      { name: 'a curator approves', steps: (v) => [{ op: 'decide', action: 'APPROVE', value: v }] },
      { name: 'a curator rejects', steps: (v) => [{ op: 'decide', action: 'REJECT', value: v }] },
      { name: 'a curator revokes', steps: (v) => [{ op: 'decide', action: 'REVOKE', value: v }] },
      { name: 'a curator expires', steps: (v) => [{ op: 'decide', action: 'EXPIRE', value: v }] },
      {
        name: 'approved, then the processor disputes and is upheld',
        steps: (v) => [
          { op: 'decide', action: 'APPROVE', value: v },
          { op: 'dispute', who: 'P', value: v, reason: `P-${v}` },
          { op: 'resolve', reason: `P-${v}`, upheld: true, note: `note to P on ${v}` },
        ],
      },
      {
        name: 'approved, then both exchanges dispute and one is rejected',
        steps: (v) => [
          { op: 'decide', action: 'APPROVE', value: v },
          { op: 'dispute', who: 'X1', value: v, reason: `X1-${v}` },
          { op: 'dispute', who: 'X2', value: v, reason: `X2-${v}` },
          { op: 'resolve', reason: `X1-${v}`, upheld: false, note: `note to X1 on ${v}` },
        ],
      },
      {
        name: 'approved, the hidden issuer acts on it, a curator revokes',
        steps: (v) => [
          { op: 'decide', action: 'APPROVE', value: v },
          { op: 'sighting', who: 'X2', value: v, kind: 'ACTIONED', note: `act-${v}` },
          { op: 'sighting', who: 'P', value: v, kind: 'ACTIONED', note: `p-act-${v}` },
          { op: 'decide', action: 'REVOKE', value: v },
        ],
      },
    ];

    it.each(HIDDEN.map((h) => [h.name, h] as const))('hidden: %s', async (_name, hidden) => {
      const script: Step[] = [];
      const values: string[] = [];
      for (const visible of VISIBLE) {
        for (const hiddenFirst of [true, false]) {
          for (const after of AFTER) {
            const value = domain('m');
            values.push(value);
            const hiddenSteps: Step[] = [
              { op: 'submit', who: hidden.who, value, tlp: hidden.tlp, jti: jti(), confidence: 97, category: 'HIDDEN_CAT', site: `https://${value}/hidden`, hidden: true },
            ];
            // Approved alone: only while it is the only statement (a curator's decision applies to all it reviews).
            if (hidden.approved) hiddenSteps.push({ op: 'decide', action: 'APPROVE', value, hidden: hiddenFirst });
            const visibleSteps: Step[] = [{ op: 'submit', who: visible.who, value, tlp: visible.tlp, jti: jti(), confidence: 40, category: 'VISIBLE_CAT' }];
            script.push(...(hiddenFirst ? [...hiddenSteps, ...visibleSteps] : [...visibleSteps, ...hiddenSteps]), ...after.steps(value));
          }
        }
      }
      const seen = await expectEquivalent(script, values);
      // Nothing of the hidden statements reached either viewer, nor a curator's note to another member.
      for (const viewer of VIEWERS) {
        const text = JSON.stringify(seen[viewer].withHidden);
        expect(text).not.toContain('HIDDEN_CAT');
        expect(text).not.toContain('/hidden');
        expect(text).not.toContain(viewer === 'P' ? 'note to X1 on' : 'note to P on');
      }
      // …while each disputing viewer got its own.
      expect(JSON.stringify(seen.P.withHidden)).toContain('note to P on');
      expect(JSON.stringify(seen.X1.withHidden)).toContain('note to X1 on');
    }, 240_000);
  });

  it('holds for random statement sets (fast-check)', async () => {
    const who = fc.constantFrom<Who>('C1', 'C2', 'X1', 'X2', 'P');
    const visibleTlp = fc.constantFrom('CLEAR', 'GREEN', 'AMBER');
    const step = fc.oneof(
      fc.record({ kind: fc.constant('visible' as const), who, tlp: visibleTlp, confidence: fc.integer({ min: 0, max: 100 }), category: fc.constantFrom('A', 'B') }),
      fc.record({ kind: fc.constant('hidden' as const), who: fc.constantFrom<Who>('C2', 'X2'), tlp: fc.constantFrom('RED', 'AMBER_STRICT'), confidence: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ kind: fc.constant('decide' as const), action: fc.constantFrom('APPROVE', 'REJECT', 'REVOKE', 'EXPIRE') as fc.Arbitrary<'APPROVE' | 'REJECT' | 'REVOKE' | 'EXPIRE'> }),
      fc.record({ kind: fc.constant('dispute' as const), who: fc.constantFrom<Who>('X1', 'P', 'X2'), upheld: fc.option(fc.boolean(), { nil: undefined }) }),
      fc.record({ kind: fc.constant('sighting' as const), who: fc.constantFrom<Who>('X1', 'P', 'X2'), sighting: fc.constantFrom('SEEN', 'FALSE_POSITIVE', 'ACTIONED') as fc.Arbitrary<'SEEN'> }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 7 }), async (plan) => {
        const value = domain('fc');
        let hiddenOnly = true; // no visible statement yet: a decision then touches hidden statements only
        const script: Step[] = plan.flatMap((p, i): Step[] => {
          switch (p.kind) {
            case 'visible':
              hiddenOnly = false;
              return [{ op: 'submit', who: p.who, value, tlp: p.tlp, jti: jti(), confidence: p.confidence, category: p.category }];
            case 'hidden':
              return [{ op: 'submit', who: p.who, value, tlp: p.tlp, jti: jti(), confidence: p.confidence, category: 'HIDDEN_CAT', hidden: true }];
            case 'decide':
              return [{ op: 'decide', action: p.action, value, hidden: hiddenOnly }];
            case 'dispute': {
              // A dispute on hidden statements alone would stay open and keep its member from
              // disputing later (one open dispute per member): the member's own business, left out.
              if (hiddenOnly) return [];
              const reason = `${p.who}-${value}-${i}`;
              const steps: Step[] = [{ op: 'dispute', who: p.who, value, reason }];
              if (p.upheld !== undefined) steps.push({ op: 'resolve', reason, upheld: p.upheld, note: `note ${reason}` });
              return steps;
            }
            case 'sighting':
              return [{ op: 'sighting', who: p.who, value, kind: p.sighting, note: `${p.sighting}-${value}-${i}`, hidden: hiddenOnly && p.who === 'X2' }];
          }
        });
        await expectEquivalent(script, [value]);
      }),
      { numRuns: 12 },
    );
  }, 300_000);
});
