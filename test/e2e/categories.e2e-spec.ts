import { superuserQuery } from '../support/database.js';
import { createMemberWithPrincipal, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, SUBMIT_MANY } from '../support/statements.js';

type Party = Awaited<ReturnType<typeof createMemberWithPrincipal>>;

const LIST = `query($all: Boolean) { categories(includeRetired: $all) { name description createdBy retiredAt retireReason } }`;
const ADD = `mutation($i: CategoryInput!) { addCategory(input: $i) { name description createdBy retiredAt } }`;
const RETIRE = `mutation($n: String!, $r: String!) { retireCategory(name: $n, reason: $r) { name retiredAt retireReason } }`;
const SHIPPED = ['CSAM_ADVERTISING', 'CSAM_COMMERCIAL', 'CSAM_DISTRIBUTION', 'CSAM_LIVESTREAM', 'CSAM_PAYMENT_INTERMEDIARY', 'SEXTORTION'];

describe('the category vocabulary (issue 18)', () => {
  let app: TestApp;
  let contributor: Party;
  let curator: Party;

  beforeAll(async () => {
    app = await startTestApp();
    contributor = await createMemberWithPrincipal(app, 'CRYPTO_EXCHANGE', ['CONTRIBUTOR', 'SCREENER']);
    curator = await createMemberWithPrincipal(app, 'COORDINATOR', ['CURATOR', 'CONTRIBUTOR']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const submit = async (category: string) =>
    app.gql(SUBMIT_MANY, { jws: [await statement(contributor.key, { iss: contributor.principalId, category, indicator: { kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() } })] }, contributor.key);
  const statements = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM statement'))[0].n;

  it('ships the documented vocabulary, readable by any member', async () => {
    const res = await app.gql(LIST, {}, contributor.key);
    expect(res.errors).toBeUndefined();
    expect(res.data!.categories.map((c: { name: string }) => c.name)).toEqual(SHIPPED);
    expect(res.data!.categories[1]).toMatchObject({ name: 'CSAM_COMMERCIAL', createdBy: null, retiredAt: null, description: expect.stringMatching(/sells access/) });
  });

  it('refuses a statement whose category is a typo, naming the allowed values; stores nothing', async () => {
    const before = await statements();
    const res = await submit('CSAM_COMERCIAL');
    expect(res.data!.submitStatements[0]).toEqual({
      ok: false,
      code: 'BAD_CLAIMS',
      error: `claims.category: CSAM_COMERCIAL is not a category in force; allowed: ${SHIPPED.join(', ')} (coordinators add more with addCategory)`,
      result: null,
    });
    expect(await statements()).toBe(before);
  });

  it('coordinators extend it (audited) and retire from it; a retired category refuses new statements, stored ones keep it', async () => {
    expect((await submit('CARD_TESTING')).data!.submitStatements[0].code).toBe('BAD_CLAIMS');
    const added = await app.gql(ADD, { i: { name: 'CARD_TESTING', description: 'Merchants used to test stolen cards for such sites.' } }, curator.key);
    expect(added.errors).toBeUndefined();
    expect(added.data!.addCategory).toEqual({ name: 'CARD_TESTING', description: 'Merchants used to test stolen cards for such sites.', createdBy: curator.principalId, retiredAt: null });
    const [event] = await superuserQuery<{ action: string; canonical: string }>(app.db, `SELECT action, canonical FROM audit_event ORDER BY idx DESC LIMIT 1`);
    expect(event.action).toBe('category.add');
    expect(JSON.parse(event.canonical).data).toEqual({ name: 'CARD_TESTING', description: 'Merchants used to test stolen cards for such sites.' });

    const accepted = await submit('CARD_TESTING');
    expect(accepted.data!.submitStatements[0]).toMatchObject({ ok: true, result: { indicator: { id: expect.any(String) } } });
    const again = await app.gql(ADD, { i: { name: 'CARD_TESTING', description: 'again' } }, curator.key);
    expect(again.errors?.[0]).toMatchObject({ message: 'input.name: CARD_TESTING is already in the vocabulary', extensions: { code: 'BAD_USER_INPUT' } });

    const retired = await app.gql(RETIRE, { n: 'CARD_TESTING', r: 'merged into CSAM_PAYMENT_INTERMEDIARY' }, curator.key);
    expect(retired.data!.retireCategory).toMatchObject({ name: 'CARD_TESTING', retiredAt: expect.any(String), retireReason: 'merged into CSAM_PAYMENT_INTERMEDIARY' });
    const refused = (await submit('CARD_TESTING')).data!.submitStatements[0];
    expect(refused).toMatchObject({ ok: false, code: 'BAD_CLAIMS', error: expect.stringMatching(/^claims\.category: CARD_TESTING is not a category in force; allowed: CSAM_ADVERTISING, /) });
    // The stored statement keeps its category.
    const [stored] = await superuserQuery<{ category: string }>(app.db, 'SELECT category FROM statement WHERE id = $1', [accepted.data!.submitStatements[0].result.statement.id]);
    expect(stored.category).toBe('CARD_TESTING');
    expect((await app.gql(LIST, {}, contributor.key)).data!.categories.map((c: { name: string }) => c.name)).not.toContain('CARD_TESTING');
    expect((await app.gql(LIST, { all: true }, contributor.key)).data!.categories.map((c: { name: string }) => c.name)).toContain('CARD_TESTING');

    // Added again: back in force.
    expect((await app.gql(ADD, { i: { name: 'CARD_TESTING', description: 'back' } }, curator.key)).data!.addCategory).toMatchObject({ retiredAt: null, description: 'back' });
    expect((await submit('CARD_TESTING')).data!.submitStatements[0].ok).toBe(true);
  });

  it('two curators adding the same new category at once: one adds it, the other is told', async () => {
    const results = await Promise.all([0, 1, 2].map(() => app.gql(ADD, { i: { name: 'RACE_CAT', description: 'at once' } }, curator.key)));
    expect(results.filter((r) => r.data?.addCategory?.name === 'RACE_CAT')).toHaveLength(1);
    for (const r of results.filter((x) => x.errors)) expect(r.errors![0]).toMatchObject({ message: 'input.name: RACE_CAT is already in the vocabulary', extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('is kept by curators only, and bad input names the field; nothing changes', async () => {
    const count = async () => (await superuserQuery<{ n: number }>(app.db, 'SELECT count(*)::int AS n FROM category'))[0].n;
    const before = await count();
    const forbidden = await app.gql(ADD, { i: { name: 'MINE', description: 'x' } }, contributor.key);
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await app.gql(RETIRE, { n: 'CSAM_COMMERCIAL', r: 'x' }, contributor.key)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const lower = await app.gql(ADD, { i: { name: 'csam', description: 'x' } }, curator.key);
    expect(lower.errors?.[0]).toMatchObject({ message: expect.stringMatching(/^input\.name: must be an upper-case identifier/), extensions: { code: 'BAD_USER_INPUT' } });
    const empty = await app.gql(ADD, { i: { name: 'OK_NAME', description: '  ' } }, curator.key);
    expect(empty.errors?.[0].message).toBe('input.description: must not be empty');
    const unknown = await app.gql(RETIRE, { n: 'NO_SUCH', r: 'x' }, curator.key);
    expect(unknown.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(await count()).toBe(before);
  });
});
