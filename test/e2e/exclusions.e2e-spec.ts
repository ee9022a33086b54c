import { createHash, randomUUID } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { superuserQuery } from '../support/database.js';
import type { TestKey } from '../support/keys.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT, SUBMIT_MANY } from '../support/statements.js';

type Party = { memberId: string; principalId: string; key: TestKey };

const EXCLUSION_FIELDS = 'id kind network value fingerprint reason createdBy createdAt removedAt removedBy warning existingIndicator { id status }';
const ADD = `mutation($i: ExclusionInput!) { addExclusion(input: $i) { ${EXCLUSION_FIELDS} } }`;
const REMOVE = `mutation($id: ID!) { removeExclusion(id: $id) { ${EXCLUSION_FIELDS} } }`;
const LIST = `query($all: Boolean) { exclusions(includeRemoved: $all) { ${EXCLUSION_FIELDS} } }`;

/** EIP-55 mixed-case form of a lower-case 0x address. */
function eip55(address: string): string {
  const hex = address.slice(2).toLowerCase();
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(hex)));
  return `0x${[...hex].map((c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c)).join('')}`;
}

/** A fresh EVM address whose EIP-55 form has letters of both cases. */
function mixedCaseAddress(): { lower: string; mixed: string } {
  for (;;) {
    const lower = nextAddress().toLowerCase();
    const mixed = eip55(lower);
    if (/[A-F]/.test(mixed) && /[a-f]/.test(mixed.slice(2))) return { lower, mixed };
  }
}

/** The same address with one letter's case flipped: its EIP-55 checksum no longer holds. */
function badChecksum(mixed: string): string {
  const i = [...mixed].findIndex((c, n) => n > 1 && /[a-fA-F]/.test(c));
  const c = mixed[i];
  return mixed.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + mixed.slice(i + 1);
}

function fingerprint(kind: string, network: string, canonical: string): string {
  return createHash('sha256').update(`${kind}|${network}|${canonical}`, 'utf8').digest('hex');
}

describe('exclusion list (SPEC 4)', () => {
  let app: TestApp;
  let exchange: Party;
  let curator: Party;
  let coordinatorNoCurator: Party;

  beforeAll(async () => {
    app = await startTestApp();
    exchange = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER', 'AUDITOR']);
    curator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR', 'CONTRIBUTOR']);
    coordinatorNoCurator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CONTRIBUTOR', 'SCREENER', 'AUDITOR', 'ADMIN']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** Everything a refused operation must leave as it was (access.denied events aside: refusals of a role are audited). */
  async function counts() {
    const [row] = await superuserQuery<Record<string, number>>(
      app.db,
      `SELECT (SELECT count(*)::int FROM exclusion) AS exclusions,
              (SELECT count(*)::int FROM exclusion WHERE removed_at IS NULL) AS active,
              (SELECT count(*)::int FROM statement) AS statements,
              (SELECT count(*)::int FROM indicator) AS indicators,
              (SELECT count(*)::int FROM audit_event WHERE action NOT IN ('access.denied', 'mutation.refused')) AS events`,
    );
    return row;
  }

  async function addExclusion(value: string, network: string | null = 'ethereum', reason = 'exchange hot wallet') {
    const res = await app.gql(ADD, { i: { kind: 'WALLET_ADDRESS', network, value, reason } }, curator.key);
    expect(res.errors).toBeUndefined();
    return res.data!.addExclusion;
  }

  it('stores an EVM address given with a polygon alias and mixed case as canonical ethereum lower-case, with an audit event', async () => {
    const { lower, mixed } = mixedCaseAddress();
    const before = await counts();
    const res = await app.gql(ADD, { i: { kind: 'WALLET_ADDRESS', network: 'polygon', value: mixed, reason: '  Exchange X hot wallet  ' } }, curator.key);
    expect(res.errors).toBeUndefined();
    const exclusion = res.data!.addExclusion;
    expect(exclusion).toMatchObject({
      kind: 'WALLET_ADDRESS',
      network: 'ethereum',
      value: lower,
      fingerprint: fingerprint('WALLET_ADDRESS', 'ethereum', lower),
      reason: 'Exchange X hot wallet',
      createdBy: curator.principalId,
      removedAt: null,
      removedBy: null,
      existingIndicator: null,
    });
    const [row] = await superuserQuery<Record<string, unknown>>(app.db, 'SELECT kind, network, value, fingerprint, reason, created_by FROM exclusion WHERE id = $1', [exclusion.id]);
    expect(row).toEqual({
      kind: 'WALLET_ADDRESS',
      network: 'ethereum',
      value: lower,
      fingerprint: exclusion.fingerprint,
      reason: 'Exchange X hot wallet',
      created_by: curator.principalId,
    });
    const [event] = await superuserQuery<{ action: string; canonical: string; actor_principal_id: string }>(
      app.db,
      `SELECT action, canonical, actor_principal_id FROM audit_event WHERE subject_id = $1`,
      [exclusion.id],
    );
    expect(event.action).toBe('exclusion.add');
    expect(event.actor_principal_id).toBe(curator.principalId);
    expect(JSON.parse(event.canonical).data).toMatchObject({ fingerprint: exclusion.fingerprint, reason: 'Exchange X hot wallet', existingIndicatorId: null });
    expect(await counts()).toEqual({ ...before, exclusions: before.exclusions + 1, active: before.active + 1, events: before.events + 1 });

    const list = await app.gql(LIST, {}, curator.key);
    expect(list.data!.exclusions.map((e: { id: string }) => e.id)).toContain(exclusion.id);
  });

  it('refuses statements about an excluded value with EXCLUDED and the reason, on the single and the batch path; removing the exclusion lets them in', async () => {
    const { lower, mixed } = mixedCaseAddress();
    const reason = 'Payment aggregator settlement wallet';
    const exclusion = await addExclusion(lower, 'ethereum', reason);
    const fp = fingerprint('WALLET_ADDRESS', 'ethereum', lower);
    const before = await counts();

    // Single path: given as on another EVM chain, mixed case: the same key.
    const single = await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'polygon', value: mixed } });
    const refused = await app.gql(SUBMIT, { jws: single }, exchange.key);
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0].extensions?.code).toBe('EXCLUDED');
    expect(refused.errors?.[0].message).toContain(reason);

    // Batch path: that item refused, the others accepted.
    const good1 = await statement(exchange.key, { iss: exchange.principalId });
    const excludedItem = await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: lower } });
    const good2 = await statement(exchange.key, { iss: exchange.principalId });
    const batch = await app.gql(SUBMIT_MANY, { jws: [good1, excludedItem, good2] }, exchange.key);
    expect(batch.errors).toBeUndefined();
    const outcomes = batch.data!.submitStatements;
    expect(outcomes.map((o: { ok: boolean; code: string | null }) => [o.ok, o.code])).toEqual([
      [true, null],
      [false, 'EXCLUDED'],
      [true, null],
    ]);
    expect(outcomes[1].error).toContain(reason);
    expect(outcomes[1].result).toBeNull();

    // Nothing stored for the excluded value; only the two good items.
    const sha = (jws: string) => createHash('sha256').update(jws).digest('hex');
    const [stored] = await superuserQuery<{ i: number; s: number }>(
      app.db,
      `SELECT (SELECT count(*)::int FROM indicator WHERE fingerprint = $1) AS i, (SELECT count(*)::int FROM statement WHERE sha256 = ANY($2)) AS s`,
      [fp, [sha(single), sha(excludedItem)]],
    );
    expect(stored).toEqual({ i: 0, s: 0 });
    // One statements.accept event for the call, listing both accepted statements.
    expect(await counts()).toEqual({ ...before, statements: before.statements + 2, indicators: before.indicators + 2, events: before.events + 1 });

    // Remove: soft, audited; listed only with includeRemoved.
    const removed = await app.gql(REMOVE, { id: exclusion.id }, curator.key);
    expect(removed.errors).toBeUndefined();
    expect(removed.data!.removeExclusion).toMatchObject({ id: exclusion.id, removedBy: curator.principalId, removedAt: expect.any(String), reason });
    const [row] = await superuserQuery<{ removed_at: Date | null; removed_by: string }>(app.db, 'SELECT removed_at, removed_by FROM exclusion WHERE id = $1', [exclusion.id]);
    expect(row.removed_at).not.toBeNull();
    expect(row.removed_by).toBe(curator.principalId);
    const [event] = await superuserQuery<{ action: string }>(app.db, `SELECT action FROM audit_event WHERE subject_id = $1 ORDER BY idx DESC LIMIT 1`, [exclusion.id]);
    expect(event.action).toBe('exclusion.remove');
    const active = await app.gql(LIST, {}, curator.key);
    expect(active.data!.exclusions.map((e: { id: string }) => e.id)).not.toContain(exclusion.id);
    const all = await app.gql(LIST, { all: true }, curator.key);
    expect(all.data!.exclusions.find((e: { id: string }) => e.id === exclusion.id)).toMatchObject({ removedBy: curator.principalId });

    // The very statement refused before is now accepted, on both paths.
    const accepted = await app.gql(SUBMIT, { jws: single }, exchange.key);
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data!.submitStatement.indicator).toMatchObject({ network: 'ethereum', value: lower, fingerprint: fp });
    const acceptedBatch = await app.gql(SUBMIT_MANY, { jws: [excludedItem] }, exchange.key);
    expect(acceptedBatch.data!.submitStatements[0]).toMatchObject({ ok: true, code: null });

    // Removing again, or an unknown id: NOT_FOUND, nothing changes.
    const mid = await counts();
    const again = await app.gql(REMOVE, { id: exclusion.id }, curator.key);
    expect(again.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const unknown = await app.gql(REMOVE, { id: randomUUID() }, curator.key);
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const notUuid = await app.gql(REMOVE, { id: 'nope' }, curator.key);
    expect(notUuid.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect(await counts()).toEqual(mid);

    // The value may be excluded again after removal.
    const readded = await addExclusion(lower, 'ethereum', reason);
    expect(readded.id).not.toBe(exclusion.id);
    expect(readded.existingIndicator).toMatchObject({ id: accepted.data!.submitStatement.indicator.id });
  });

  it('tells the curator about an existing indicator for the value, and changes nothing about it', async () => {
    const value = nextAddress();
    const submitted = await app.gql(SUBMIT, { jws: await statement(exchange.key, { iss: exchange.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, exchange.key);
    expect(submitted.errors).toBeUndefined();
    const indicator = submitted.data!.submitStatement.indicator;
    expect(indicator.status).toBe('PENDING');
    const snapshot = () =>
      superuserQuery(
        app.db,
        `SELECT (SELECT json_agg(st ORDER BY st.statement_id) FROM statement_state st WHERE st.indicator_id = $1) AS states,
                (SELECT count(*)::int FROM indicator_change WHERE indicator_id = $1) AS changes`,
        [indicator.id],
      );
    const beforeRow = await snapshot();
    const before = await counts();

    const exclusion = await addExclusion(value.toUpperCase().replace('0X', '0x'), 'bsc', 'Known exchange deposit wallet');
    expect(exclusion.existingIndicator).toEqual({ id: indicator.id, status: 'PENDING' });
    expect(exclusion.warning).toBe(
      `indicator ${indicator.id} for this value is PENDING (approving it would make it match); the exclusion only refuses new statements: revoke it with revokeIndicator, or add the exclusion with revokeMatching: true`,
    );
    expect(await snapshot()).toEqual(beforeRow);
    expect(await counts()).toEqual({ ...before, exclusions: before.exclusions + 1, active: before.active + 1, events: before.events + 1 });
    const [event] = await superuserQuery<{ canonical: string }>(app.db, 'SELECT canonical FROM audit_event WHERE subject_id = $1', [exclusion.id]);
    expect(JSON.parse(event.canonical).data).toMatchObject({ existingIndicatorId: indicator.id, existingIndicatorStatus: 'PENDING' });

    const list = await app.gql(LIST, {}, curator.key);
    expect(list.data!.exclusions.find((e: { id: string }) => e.id === exclusion.id).existingIndicator).toEqual({ id: indicator.id, status: 'PENDING' });
  });

  it('an exclusion for a value with an ACTIVE indicator warns that it still matches, or revokes it in the same call with revokeMatching', async () => {
    const ADD_REVOKING = `mutation($i: ExclusionInput!) { addExclusion(input: $i) { id warning existingIndicator { id status } revokedIndicator { id status } } }`;
    const SCREEN = `query($i: ScreenInput!) { screen(input: $i) { match indicator { id status } } }`;
    const NOTES = `{ notifications { kind indicator { id } message } }`;
    const listActive = async () => {
      const value = nextAddress();
      const submitted = await app.gql(SUBMIT, { jws: await statement(curator.key, { iss: curator.principalId, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }) }, curator.key);
      expect(submitted.data!.submitStatement.indicator.status).toBe('ACTIVE');
      return { value, id: submitted.data!.submitStatement.indicator.id as string };
    };
    const screen = async (value: string) => (await app.gql(SCREEN, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value } }, exchange.key)).data!.screen;

    // Without revokeMatching: the answer says the indicator still matches, and it does.
    const kept = await listActive();
    const warned = (await app.gql(ADD_REVOKING, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: kept.value, reason: 'hot wallet of exchange Y' } }, curator.key)).data!.addExclusion;
    expect(warned).toMatchObject({ existingIndicator: { id: kept.id, status: 'ACTIVE' }, revokedIndicator: null });
    expect(warned.warning).toMatch(new RegExp(`^indicator ${kept.id} for this value is ACTIVE and still matches in screening; .*revokeMatching: true$`));
    expect(await screen(kept.value)).toEqual({ match: true, indicator: { id: kept.id, status: 'ACTIVE' } });

    // With revokeMatching: revoked in the same call, with the reason; screening stops matching and
    // the members that acted on it are told.
    const revoked = await listActive();
    expect((await app.gql('mutation($id: ID!) { reportSighting(indicatorId: $id, kind: ACTIONED) { id } }', { id: revoked.id }, exchange.key)).errors).toBeUndefined();
    const added = await app.gql(ADD_REVOKING, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: revoked.value, reason: 'payment aggregator wallet', revokeMatching: true } }, curator.key);
    expect(added.errors).toBeUndefined();
    expect(added.data!.addExclusion).toMatchObject({ warning: null, revokedIndicator: { id: revoked.id, status: 'REVOKED' }, existingIndicator: { id: revoked.id, status: 'REVOKED' } });
    expect(await screen(revoked.value)).toEqual({ match: false, indicator: null });
    const events = await superuserQuery<{ action: string; tx: string }>(
      app.db,
      `SELECT action, canonical::jsonb->>'tx' AS tx FROM audit_event WHERE subject_id IN ($1, $2) ORDER BY idx`,
      [added.data!.addExclusion.id, revoked.id],
    );
    expect(events.map((e) => e.action).slice(-2)).toEqual(['exclusion.add', 'indicator.revoke']);
    const notes = (await app.gql(NOTES, {}, exchange.key)).data!.notifications;
    expect(notes).toContainEqual({ kind: 'REVOKED', indicator: { id: revoked.id }, message: expect.stringContaining('excluded as known-benign: payment aggregator wallet') });

    // revokeMatching with nothing listed for the value is simply an exclusion.
    const plain = await app.gql(ADD_REVOKING, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress(), reason: 'benign', revokeMatching: true } }, curator.key);
    expect(plain.data!.addExclusion).toMatchObject({ warning: null, existingIndicator: null, revokedIndicator: null });
    const bad = await app.gql(ADD_REVOKING, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress(), reason: 'benign', revokeMatching: 'yes' } }, curator.key);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses invalid input with BAD_USER_INPUT naming the field and why, and stores nothing', async () => {
    const { mixed } = mixedCaseAddress();
    const before = await counts();
    const refusal = async (input: Record<string, unknown>) => {
      const res = await app.gql(ADD, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: mixed, reason: 'benign', ...input } }, curator.key);
      expect(res.data).toBeNull();
      expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      return res.errors![0];
    };

    const checksum = await refusal({ value: badChecksum(mixed) });
    expect(checksum.extensions?.field).toBe('input.value');
    expect(checksum.message).toMatch(/^input\.value: .*checksum.*\(BAD_CHECKSUM\)$/i);

    const btc = await refusal({ network: 'bitcoin', value: '1BpEi6DfDAUFd7GtittLSdBeYJvcoaVggv' });
    expect(btc.message).toMatch(/^input\.value: .*\(BAD_CHECKSUM\)$/);

    const network = await refusal({ network: 'no-such-chain' });
    expect(network.extensions?.field).toBe('input.network');
    expect(network.message).toMatch(/^input\.network: .*\(UNSUPPORTED_NETWORK\)$/);

    const networkOnDomain = await refusal({ kind: 'DOMAIN', network: 'ethereum', value: 'example.com' });
    expect(networkOnDomain.message).toMatch(/^input\.network: .*\(NETWORK_NOT_ALLOWED\)$/);

    const empty = await refusal({ value: '   ' });
    expect(empty.message).toMatch(/^input\.value: .*\(EMPTY\)$/);

    const merchant = await refusal({ kind: 'MERCHANT_ID', network: null, value: 'no-colon' });
    expect(merchant.message).toMatch(/^input\.value: .*\(INVALID_MERCHANT_ID\)$/);

    const reason = await refusal({ reason: '   ' });
    expect(reason.extensions?.field).toBe('input.reason');
    expect(reason.message).toBe('input.reason: must not be empty');

    const kind = await app.gql(ADD, { i: { kind: 'PHONE', value: 'x', reason: 'r' } }, curator.key);
    expect(kind.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    expect(await counts()).toEqual(before);
  });

  it('canonicalises other kinds (merchant id, domain) and refuses a duplicate active exclusion, however it is written', async () => {
    const merchant = await app.gql(ADD, { i: { kind: 'MERCHANT_ID', value: ' acq-1 : m-42 ', reason: 'payment aggregator' } }, curator.key);
    expect(merchant.errors).toBeUndefined();
    expect(merchant.data!.addExclusion).toMatchObject({ kind: 'MERCHANT_ID', network: null, value: 'ACQ-1:M-42', fingerprint: fingerprint('MERCHANT_ID', '', 'ACQ-1:M-42') });
    const domain = await app.gql(ADD, { i: { kind: 'DOMAIN', value: 'Example-Bank.COM.', reason: 'a bank' } }, curator.key);
    expect(domain.data!.addExclusion).toMatchObject({ network: null, value: 'example-bank.com', fingerprint: fingerprint('DOMAIN', '', 'example-bank.com') });

    const { lower, mixed } = mixedCaseAddress();
    await addExclusion(lower);
    const before = await counts();
    for (const [network, value] of [
      ['ethereum', lower],
      ['polygon', mixed],
      [null, mixed],
    ] as const) {
      const dup = await app.gql(ADD, { i: { kind: 'WALLET_ADDRESS', network, value, reason: 'again' } }, curator.key);
      expect(dup.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(dup.errors?.[0].message).toMatch(/already excluded/);
    }
    const dupDomain = await app.gql(ADD, { i: { kind: 'DOMAIN', value: 'example-bank.com', reason: 'again' } }, curator.key);
    expect(dupDomain.errors?.[0].message).toMatch(/already excluded/);
    expect(await counts()).toEqual(before);
  });

  it('ends concurrent additions of the same value with exactly one exclusion', async () => {
    const value = nextAddress();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => app.gql(ADD, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value, reason: 'race' } }, curator.key)),
    );
    expect(results.filter((r) => !r.errors).length).toBe(1);
    expect(results.filter((r) => r.errors).every((r) => r.errors![0].extensions?.code === 'BAD_USER_INPUT')).toBe(true);
    const [{ n }] = await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM exclusion WHERE fingerprint = $1', [
      fingerprint('WALLET_ADDRESS', 'ethereum', value.toLowerCase()),
    ]);
    expect(n).toBe(1);
  });

  it('is for curators only: FORBIDDEN for anyone else, and nothing changes', async () => {
    const existing = await addExclusion(nextAddress());
    const before = await counts();
    for (const party of [exchange, coordinatorNoCurator]) {
      const add = await app.gql(ADD, { i: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress(), reason: 'r' } }, party.key);
      expect(add.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(add.data).toBeNull();
      const remove = await app.gql(REMOVE, { id: existing.id }, party.key);
      expect(remove.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const list = await app.gql(LIST, { all: true }, party.key);
      expect(list.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(list.data).toBeNull();
    }
    expect(await counts()).toEqual(before);
    const [{ n }] = await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM exclusion WHERE id = $1 AND removed_at IS NULL', [existing.id]);
    expect(n).toBe(1);
    const [denied] = await superuserQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM audit_event WHERE action = 'access.denied' AND actor_principal_id = $1`, [exchange.principalId]);
    expect(denied.n).toBeGreaterThanOrEqual(3);

    // The bootstrap administrator holds CURATOR: allowed.
    const admin = await app.gql(LIST, {}, app.admin);
    expect(admin.errors).toBeUndefined();
  });
});
