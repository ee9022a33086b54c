import { createHash, randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import { fingerprint } from '@app/canonical';
import { superuserQuery } from '../support/database.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';

const INCLUSION = 'query($i: BigInt!, $n: BigInt!) { auditInclusionProof(index: $i, treeSize: $n) { index treeSize leafHash path } }';
const CHECKPOINT = '{ auditCheckpoint { treeSize } }';
const EVENTS = '{ auditEvents(first: 100, filter: { action: "screen" }) { edges { node { index action canonical } } } }';
const SCREEN = 'query($v: String!) { screen(input: { kind: WALLET_ADDRESS, network: "ethereum", value: $v }) { match } }';

const leaf = (text: string) => createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(text, 'utf8')])).digest('hex');
const address = (n: number) => `0x${(0xabc000 + n).toString(16).padStart(40, '0')}`;

/**
 * SPEC 6's leaves are `SHA-256(0x00 || event bytes)`, and any principal may ask for an inclusion
 * proof (its leaf hash and path). A `screen` event's bytes are otherwise guessable — action, actor
 * ids, the millisecond, the index, the fingerprint asked — so without a secret part an attacker who
 * brackets a victim's call between two of its own could confirm which value the victim screened by
 * hashing guesses. Every event carries 256 random bits (`salt`) readable only with the event.
 */
describe('audit leaf hashes reveal nothing to whoever cannot read the event', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function treeSizeAtLeast(n: number): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const size = (await app.gql<{ auditCheckpoint: { treeSize: number } }>(CHECKPOINT)).data!.auditCheckpoint.treeSize;
      if (size >= n) return size;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the tree did not reach ${n} events`);
  }

  it('an attacker who knows everything but the salt cannot tell which of 84 candidates a victim screened', async () => {
    // The attacker: an exchange with its own keys, AUDITOR as well (it may read its own member's events).
    const attacker = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER', 'AUDITOR']);
    const victim = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['SCREENER']);
    const candidates = Array.from({ length: 84 }, (_, i) => address(i));
    const secret = candidates[37];

    // Bracket the victim's call between two of the attacker's own.
    await app.gql(SCREEN, { v: address(1000) }, attacker.key);
    await app.gql(SCREEN, { v: secret }, victim.key);
    await app.gql(SCREEN, { v: address(1001) }, attacker.key);
    const own = (await app.gql<{ auditEvents: { edges: { node: { index: number; action: string; canonical: string } }[] } }>(EVENTS, {}, attacker.key)).data!.auditEvents.edges
      .map((e) => e.node)
      .filter((e) => e.action === 'screen');
    expect(own).toHaveLength(2);
    const [before, after] = own;
    expect(after.index - before.index).toBe(2);
    const victimIndex = before.index + 1;

    // What the attacker can ask for: the victim's leaf hash, through an inclusion proof.
    const size = await treeSizeAtLeast(after.index + 1);
    const proof = await app.gql<{ auditInclusionProof: { leafHash: string } }>(INCLUSION, { i: victimIndex, n: size }, attacker.key);
    expect(proof.errors).toBeUndefined();
    const leafHash = proof.data!.auditInclusionProof.leafHash;
    // It cannot read the event itself.
    expect(JSON.stringify(own)).not.toContain(`"index":${victimIndex},`);

    // The strongest guesser: it knows the victim's event exactly (read here as the database
    // superuser) except for the salt — action, actor, millisecond, index, count — and tries every
    // candidate's fingerprint in every form the bytes could take without the salt.
    const [row] = await superuserQuery<{ canonical: string }>(app.db, 'SELECT canonical FROM audit_event WHERE idx = $1', [victimIndex]);
    const event = JSON.parse(row.canonical) as Record<string, unknown> & { salt: string; data: { fingerprints: string[] } };
    expect(event.v).toBe(2);
    expect(Buffer.from(event.salt, 'base64url')).toHaveLength(32);
    const { salt, ...known } = event;
    let matches = 0;
    let tries = 0;
    for (const candidate of candidates) {
      const data = { ...known.data, fingerprints: [fingerprint('WALLET_ADDRESS', 'ethereum', candidate)] };
      const guesses = [
        { ...known, data }, // the salt left out
        { ...known, data, v: 1 }, // as version 1 events were written (no salt)
        { ...known, data, salt: randomBytes(32).toString('base64url') }, // a guessed salt
        { ...known, data, salt: '' },
      ];
      for (const guess of guesses) {
        tries++;
        if (leaf(canonicalize(guess)!) === leafHash) matches++;
      }
    }
    expect(tries).toBe(84 * 4);
    expect(matches).toBe(0);

    // Control: with the salt (what a reader of the event has), the right candidate — and only it —
    // reproduces the leaf. Without the salt in the bytes, the guess above would have found it.
    const withSalt = candidates.filter((c) => leaf(canonicalize({ ...known, salt, data: { ...known.data, fingerprints: [fingerprint('WALLET_ADDRESS', 'ethereum', c)] } })!) === leafHash);
    expect(withSalt).toEqual([secret]);
    expect(leaf(row.canonical)).toBe(leafHash);
  });

  it('every event has its own salt: no two events share one, and none is predictable from the others', async () => {
    const member = await createMemberWithPrincipal(app, 'CARD_PROCESSOR', ['SCREENER']);
    for (let i = 0; i < 20; i++) await app.gql(SCREEN, { v: address(2000 + i) }, member.key);
    const rows = await superuserQuery<{ canonical: string }>(app.db, 'SELECT canonical FROM audit_event ORDER BY idx');
    const salts = rows.map((r) => (JSON.parse(r.canonical) as { salt: string }).salt);
    expect(salts.every((s) => /^[A-Za-z0-9_-]{43}$/.test(s))).toBe(true);
    expect(new Set(salts).size).toBe(salts.length);
  });
});
