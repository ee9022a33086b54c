import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { siteFingerprint } from '@app/canonical';
import { buildSchema, isObjectType } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { bulk } from '../support/bulk.js';
import { newKey, type TestKey, tokenFor } from '../support/keys.js';
import { type GraphqlResponse, startTestApp, type TestApp } from '../support/server.js';
import { nextAddress, statement, type StatementInput } from '../support/statements.js';

/**
 * The authorization matrix (issue 8): every operation of the committed schema.graphql (and the
 * sensitive object fields below) × every kind of caller, each sent as a real, otherwise valid
 * request with a real signed token, and the answer classified. The committed table is
 * test/authz/expected.json; docs/authorization.md is generated from it. `UPDATE_AUTHZ=1` rewrites
 * both from what the service answers now — then review the diff against SPEC section 1.
 *
 * Outcomes: `ok` (answered, the asked thing is there), `null` (answered, but the object or field
 * asked for is null: hidden), `absent` (answered, but the target is not in the list: hidden),
 * or the error's `extensions.code` (FORBIDDEN, UNAUTHENTICATED, NOT_FOUND, …). Subscriptions:
 * `ok` when the change is delivered, `absent` when the subscription runs but that change never
 * comes, UNAUTHENTICATED when the connection is closed at connection_init (4401/4403).
 */

const ROOT = new URL('../../', import.meta.url);
const SCHEMA_FILE = new URL('schema.graphql', ROOT);
const EXPECTED_FILE = new URL('test/authz/expected.json', ROOT);
const DOCS_FILE = new URL('docs/authorization.md', ROOT);
const UPDATE = process.env.UPDATE_AUTHZ === '1';

/** Object fields whose answer depends on who asks (beyond the root operations). */
const SENSITIVE_FIELDS = [
  'Statement.jws',
  'Statement.receipt',
  'ReportedSite.url',
  'Indicator.sites',
  'Indicator.statements',
  'AuditEvent.canonical',
  'Member.principals',
  'Member.suspendedReason',
  'Exclusion.existingIndicator',
];

type Role = 'SCREENER' | 'CONTRIBUTOR' | 'CURATOR' | 'AUDITOR' | 'ADMIN';
const ROLES: Role[] = ['SCREENER', 'CONTRIBUTOR', 'CURATOR', 'AUDITOR', 'ADMIN'];
/** CURATOR and ADMIN cannot be given to a non-coordinator member (createPrincipal: BAD_USER_INPUT). */
const MEMBER_ROLES: Role[] = ['SCREENER', 'CONTRIBUTOR', 'AUDITOR'];

interface CallerSpec {
  id: string;
  /** The caller's own member: the coordinator fixture, or the crypto-exchange fixture. */
  home: 'coord' | 'alpha';
  role: Role | null;
}

const CALLERS: CallerSpec[] = [
  ...ROLES.map((role): CallerSpec => ({ id: `coordinator ${role}`, home: 'coord', role })),
  ...MEMBER_ROLES.map((role): CallerSpec => ({ id: `member ${role}`, home: 'alpha', role })),
  // No Authorization header at all; "its" member is the crypto exchange, for the variables only.
  { id: 'no token', home: 'alpha', role: null },
];

type Outcome = string;
type OutcomeRow = Record<string, Outcome>;
interface Matrix {
  callers: string[];
  operations: Record<string, Record<string, OutcomeRow>>;
}

interface Party {
  memberId: string;
  principalId: string;
  key: TestKey;
}

interface Home {
  memberId: string;
  /** A SCREENER principal of the member that no caller is (a target). */
  spare: Party;
  contributor: Party;
  /** A GREEN statement of the member with one reported site as evidence, and its indicator. */
  green: { indicatorId: string; statementId: string; value: string; fingerprint: string; siteFingerprint: string };
  /** A RED indicator only this member (and coordinators) may see. */
  red: { indicatorId: string; value: string; fingerprint: string };
  /** An OPEN dispute filed by this member. */
  disputeId: string;
  /** A notification of this member (an indicator it ACTIONED was revoked). */
  notificationId: string;
}

interface Ctx {
  index: number;
  caller: CallerSpec;
  party: Party | null;
  home: Home;
}

type PoolName =
  | 'suspendMember'
  | 'reinstateMember'
  | 'disableOwn'
  | 'disableOther'
  | 'enableOwn'
  | 'enableOther'
  | 'revokeOwnKey'
  | 'revokeOwnMemberKey'
  | 'revokeOtherKey'
  | 'removeExclusion'
  | 'disputeVisible'
  | 'disputeRed'
  | 'resolveDispute'
  | 'reviewIndicator'
  | 'reviewIndicators'
  | 'revokeIndicator'
  | 'expireIndicator'
  | 'retireCategory'
  | 'disableWebhook'
  | 'enableWebhook';

interface Fixtures {
  secretariatId: string;
  coord: Home;
  alpha: Home;
  beta: Home;
  /** Per caller (CALLERS order): its principal, null for "no token". */
  parties: (Party | null)[];
  suspendedMemberId: string;
  /** An indicator with a GREEN statement by the coordinator and a RED one (with its own site) by beta. */
  mixed: { indicatorId: string; redStatementId: string; redSiteFingerprint: string };
  exclusionOfIndicator: string;
  /** A webhook registered for beta's spare principal (in service). */
  betaWebhookId: string;
  /** One fresh target per caller (CALLERS order) for operations that change their target. */
  pools: Record<PoolName, string[]>;
  /** Keys that callers added to themselves (revoked before "own last key"). */
  selfAddedKids: string[];
  /** Per caller: a principal with the same role in a member of the same kind, suspended mid-subscription. */
  twins: (Party | null)[];
  twinMembers: string[];
}

interface Scenario {
  op: string;
  target: string;
  query: string;
  vars?: (c: Ctx) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /** Classifies an answer without errors; `ok` when absent. */
  pick?: (data: any, c: Ctx) => Outcome;
  /** An HTTP endpoint beside GraphQL (HTTP_OPERATIONS): sends the request itself and classifies the answer. */
  run?: (c: Ctx) => Promise<Outcome>;
  /** Acts on the caller itself: runs after everything else, one at a time. */
  last?: boolean;
  /** A deliberate guard rail, where BAD_USER_INPUT is the expected answer for a permitted caller. */
  guardRail?: boolean;
  before?: () => Promise<void>;
}

/**
 * What an (operation, caller) may answer when the fixture is right: anything else (a validation
 * error, CONFLICT, an internal error, a subscription closed for another reason) is a test bug.
 * FOREIGN_ISSUER is the statements service's own refusal of another member's statement.
 */
const AUTHORIZATION_OUTCOMES = ['ok', 'null', 'absent', 'FORBIDDEN', 'UNAUTHENTICATED', 'NOT_FOUND', 'FOREIGN_ISSUER'];

const value = (v: unknown): Outcome => (v === null || v === undefined ? 'null' : 'ok');
const present = (found: boolean): Outcome => (found ? 'ok' : 'absent');
const item = (o: { ok: boolean; code: string | null } | undefined): Outcome => (o === undefined ? 'absent' : o.ok ? 'ok' : (o.code ?? 'ERROR'));
const edges = (connection: { edges: { node: any }[] }) => connection.edges.map((e) => e.node);
const unique = () => randomUUID().slice(0, 8);

let app: TestApp;
let fx: Fixtures;

// ---------------------------------------------------------------------------------------------
// The scenarios: one per (operation, target); each runs once per caller.
// ---------------------------------------------------------------------------------------------

const wallet = () => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: nextAddress() });
const other = () => fx.beta;
const pool = (name: PoolName) => (c: Ctx) => fx.pools[name][c.index];
/** The caller, or for "no token" the crypto exchange's spare principal (its outcome is UNAUTHENTICATED anyway). */
const selfOrSpare = (c: Ctx) => c.party ?? c.home.spare;

function scenarios(): Scenario[] {
  const s: Scenario[] = [];
  const add = (op: string, target: string, query: string, rest: Omit<Scenario, 'op' | 'target' | 'query'> = {}) =>
    s.push({ op, target, query, ...rest });

  // ----- Query -----
  add('Query.me', 'self', '{ me { id } }');
  add('Query.members', 'directory', '{ members { id } }');
  const MEMBER = 'query($id: ID!) { member(id: $id) { id } }';
  add('Query.member', 'own member', MEMBER, { vars: (c) => ({ id: c.home.memberId }), pick: (d) => value(d.member) });
  add('Query.member', 'another member', MEMBER, { vars: () => ({ id: other().memberId }), pick: (d) => value(d.member) });
  const PRINCIPAL = 'query($id: ID!) { principal(id: $id) { id } }';
  add('Query.principal', "own member's principal", PRINCIPAL, { vars: (c) => ({ id: c.home.spare.principalId }), pick: (d) => value(d.principal) });
  add('Query.principal', "another member's principal", PRINCIPAL, { vars: () => ({ id: other().spare.principalId }), pick: (d) => value(d.principal) });
  const INDICATOR = 'query($id: ID!) { indicator(id: $id) { id } }';
  add('Query.indicator', "another member's GREEN", INDICATOR, { vars: () => ({ id: other().green.indicatorId }), pick: (d) => value(d.indicator) });
  add('Query.indicator', "own member's RED", INDICATOR, { vars: (c) => ({ id: c.home.red.indicatorId }), pick: (d) => value(d.indicator) });
  add('Query.indicator', "another member's RED", INDICATOR, { vars: () => ({ id: other().red.indicatorId }), pick: (d) => value(d.indicator) });
  // beta's RED indicator is the only DOMAIN indicator of the fixtures.
  // Page sizes travel as variables: graphql-armor's cost limit multiplies by a literal `first` only.
  add('Query.indicators', "another member's RED", 'query($n: Int) { indicators(first: $n, filter: { kind: DOMAIN }) { edges { node { id } } } }', {
    vars: () => ({ n: 500 }),
    pick: (d) => present(edges(d.indicators).some((n) => n.id === other().red.indicatorId)),
  });
  // beta's RED indicator is the first indicator created, so its CREATED change is in the first page.
  add('Query.changes', "another member's RED", 'query($n: Int) { changes(first: $n) { edges { node { indicatorId } } } }', {
    vars: () => ({ n: 500 }),
    pick: (d) => present(edges(d.changes).some((n) => n.indicatorId === other().red.indicatorId)),
  });
  const DISPUTE = 'query($id: ID!) { dispute(id: $id) { id } }';
  add('Query.dispute', "own member's dispute", DISPUTE, { vars: (c) => ({ id: c.home.disputeId }), pick: (d) => value(d.dispute) });
  add('Query.dispute', "another member's dispute", DISPUTE, { vars: () => ({ id: other().disputeId }), pick: (d) => value(d.dispute) });
  const DISPUTES = 'query($i: ID!, $n: Int) { disputes(indicatorId: $i, first: $n) { edges { node { id } } } }';
  // coord's and alpha's disputes are on beta's GREEN indicator, beta's on the coordinator's.
  add('Query.disputes', "own member's dispute", DISPUTES, {
    vars: () => ({ i: other().green.indicatorId, n: 500 }),
    pick: (d, c) => present(edges(d.disputes).some((n) => n.id === c.home.disputeId)),
  });
  add('Query.disputes', "another member's dispute", DISPUTES, {
    vars: () => ({ i: fx.coord.green.indicatorId, n: 500 }),
    pick: (d) => present(edges(d.disputes).some((n) => n.id === other().disputeId)),
  });
  add('Query.exclusions', 'the list', '{ exclusions { id } }');
  add('Query.notifications', "own member's", '{ notifications(first: 500) { id } }', {
    pick: (d, c) => present(d.notifications.some((n: { id: string }) => n.id === c.home.notificationId)),
  });
  add('Query.reviewQueue', 'the queue', '{ reviewQueue(first: 1) { edges { node { id } } } }');
  const SCREEN = 'query($in: ScreenInput!) { screen(input: $in) { match } }';
  const SCREEN_BATCH = 'query($in: [ScreenInput!]!) { screenBatch(inputs: $in) { match } }';
  const PREFIX = 'query($p: String!) { screenByPrefix(prefix: $p) { fingerprint } }';
  const greenInput = () => ({ kind: 'WALLET_ADDRESS', network: 'ethereum', value: other().green.value });
  const redInput = () => ({ kind: 'DOMAIN', value: other().red.value });
  add('Query.screen', "another member's GREEN", SCREEN, { vars: () => ({ in: greenInput() }), pick: (d) => present(d.screen.match) });
  add('Query.screen', "another member's RED", SCREEN, { vars: () => ({ in: redInput() }), pick: (d) => present(d.screen.match) });
  add('Query.screenBatch', "another member's GREEN", SCREEN_BATCH, { vars: () => ({ in: [greenInput()] }), pick: (d) => present(d.screenBatch[0].match) });
  add('Query.screenBatch', "another member's RED", SCREEN_BATCH, { vars: () => ({ in: [redInput()] }), pick: (d) => present(d.screenBatch[0].match) });
  // The bulk endpoint (issue 19): one line, answered as screenBatch; a refusal is an HTTP error
  // whose body carries the code as GraphQL's does.
  const bulkScreen = (input: () => Record<string, unknown>) => async (c: Ctx): Promise<Outcome> => {
    const token = c.party ? await tokenFor(c.party.key, { audience: app.config.audience }) : undefined;
    const answer = await bulk(app.url, `${JSON.stringify(input())}\n`, { token });
    if (answer.status !== 200) return String(answer.lines[0]?.errors?.[0]?.extensions?.code ?? `HTTP ${answer.status}`);
    const [line, last] = answer.lines;
    if (!last?.summary) return String(last?.error?.code ?? 'ERROR');
    return present(line.match);
  };
  add('POST /v1/screen', "another member's GREEN", '', { run: bulkScreen(greenInput) });
  add('POST /v1/screen', "another member's RED", '', { run: bulkScreen(redInput) });
  const inBucket = (fingerprint: string) => (d: any) => present(d.screenByPrefix.some((m: { fingerprint: string }) => m.fingerprint === fingerprint));
  add('Query.screenByPrefix', "another member's GREEN", PREFIX, {
    vars: () => ({ p: other().green.fingerprint.slice(0, 8) }),
    pick: (d) => inBucket(other().green.fingerprint)(d),
  });
  add('Query.screenByPrefix', "another member's RED", PREFIX, {
    vars: () => ({ p: other().red.fingerprint.slice(0, 8) }),
    pick: (d) => inBucket(other().red.fingerprint)(d),
  });
  add('Query.auditCheckpoint', 'the log', '{ auditCheckpoint { treeSize } }');
  add('Query.auditInclusionProof', 'event 0', '{ auditInclusionProof(index: 0, treeSize: 1) { leafHash } }');
  add('Query.auditConsistencyProof', 'sizes 1 → 2', '{ auditConsistencyProof(fromSize: 1, toSize: 2) { path } }');
  const EVENTS_BY_ACTOR = 'query($m: ID!) { auditEvents(first: 1, filter: { actorMemberId: $m }) { edges { node { index } } } }';
  add('Query.auditEvents', "own member's events", EVENTS_BY_ACTOR, { vars: (c) => ({ m: c.home.memberId }), pick: (d) => present(d.auditEvents.edges.length > 0) });
  add('Query.auditEvents', "another member's events", EVENTS_BY_ACTOR, { vars: () => ({ m: other().memberId }), pick: (d) => present(d.auditEvents.edges.length > 0) });

  add('Query.categories', 'the vocabulary', '{ categories { name } }');
  const WEBHOOK = 'query($id: ID!) { webhook(id: $id) { id } }';
  add('Query.webhook', "another member's webhook", WEBHOOK, { vars: () => ({ id: fx.betaWebhookId }), pick: (d) => value(d.webhook) });
  add('Query.webhooks', "another member's webhook", '{ webhooks { id } }', {
    pick: (d) => present(d.webhooks.some((w: { id: string }) => w.id === fx.betaWebhookId)),
  });

  // ----- Mutation: categories and webhooks -----
  add('Mutation.addCategory', 'a new category', 'mutation($i: CategoryInput!) { addCategory(input: $i) { name } }', {
    vars: () => ({ i: { name: `AUTHZ_${unique().toUpperCase()}`, description: 'authz matrix' } }),
  });
  add('Mutation.retireCategory', 'a category in force', 'mutation($n: String!) { retireCategory(name: $n, reason: "authz matrix") { name } }', {
    vars: (c) => ({ n: pool('retireCategory')(c) }),
  });
  add('Mutation.registerWebhook', "another member's principal", 'mutation($i: WebhookInput!) { registerWebhook(input: $i) { id } }', {
    vars: () => ({ i: { principalId: other().spare.principalId, url: 'https://127.0.0.1:9/authz', events: ['NOTIFICATION'] } }),
  });
  add('Mutation.disableWebhook', 'a webhook in service', 'mutation($id: ID!) { disableWebhook(id: $id, reason: "authz matrix") { id } }', {
    vars: (c) => ({ id: pool('disableWebhook')(c) }),
  });
  add('Mutation.enableWebhook', 'a disabled webhook', 'mutation($id: ID!) { enableWebhook(id: $id) { id } }', {
    vars: (c) => ({ id: pool('enableWebhook')(c) }),
  });

  // ----- Mutation: members -----
  add('Mutation.createMember', 'a new member', 'mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }', {
    vars: (c) => ({ i: { name: `authz ${c.caller.id} ${unique()}`, kind: 'CARD_PROCESSOR' } }),
  });
  const SUSPEND = 'mutation($id: ID!) { suspendMember(id: $id, reason: "authz matrix") { id } }';
  add('Mutation.suspendMember', 'another member', SUSPEND, { vars: (c) => ({ id: pool('suspendMember')(c) }) });
  add('Mutation.reinstateMember', 'another (suspended) member', 'mutation($id: ID!) { reinstateMember(id: $id, note: "authz matrix") { id } }', {
    vars: (c) => ({ id: pool('reinstateMember')(c) }),
  });

  // ----- Mutation: principals and keys -----
  const CREATE_PRINCIPAL = 'mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }';
  const newPrincipal = (memberId: string, roles: Role[]) => async () => ({
    i: { memberId, name: `authz-${unique()}`, roles, publicJwk: (await newKey()).publicJwk },
  });
  add('Mutation.createPrincipal', 'own member', CREATE_PRINCIPAL, { vars: (c) => newPrincipal(c.home.memberId, ['SCREENER'])() });
  add('Mutation.createPrincipal', 'another member', CREATE_PRINCIPAL, { vars: () => newPrincipal(other().memberId, ['SCREENER'])() });
  add('Mutation.createPrincipal', 'CURATOR for a non-coordinator member', CREATE_PRINCIPAL, {
    vars: () => newPrincipal(other().memberId, ['CURATOR'])(),
    guardRail: true,
  });
  const SET_ROLES = 'mutation($id: ID!, $roles: [Role!]!) { setPrincipalRoles(id: $id, roles: $roles) { id } }';
  add('Mutation.setPrincipalRoles', "own member's principal", SET_ROLES, { vars: (c) => ({ id: c.home.spare.principalId, roles: ['SCREENER'] }) });
  add('Mutation.setPrincipalRoles', "another member's principal", SET_ROLES, { vars: () => ({ id: other().spare.principalId, roles: ['SCREENER'] }) });
  const DISABLE = 'mutation($id: ID!) { disablePrincipal(id: $id, reason: "authz matrix") { id } }';
  add('Mutation.disablePrincipal', "own member's principal", DISABLE, { vars: (c) => ({ id: pool('disableOwn')(c) }) });
  add('Mutation.disablePrincipal', "another member's principal", DISABLE, { vars: (c) => ({ id: pool('disableOther')(c) }) });
  const ENABLE = 'mutation($id: ID!) { enablePrincipal(id: $id) { id } }';
  add('Mutation.enablePrincipal', "own member's principal", ENABLE, { vars: (c) => ({ id: pool('enableOwn')(c) }) });
  add('Mutation.enablePrincipal', "another member's principal", ENABLE, { vars: (c) => ({ id: pool('enableOther')(c) }) });
  const ADD_KEY = 'mutation($p: ID!, $jwk: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $jwk) { kid } }';
  add('Mutation.addPrincipalKey', 'self', ADD_KEY, {
    vars: async (c) => {
      const key = await newKey();
      fx.selfAddedKids.push(key.kid);
      return { p: selfOrSpare(c).principalId, jwk: key.publicJwk };
    },
  });
  add('Mutation.addPrincipalKey', "own member's other principal", ADD_KEY, { vars: async (c) => ({ p: c.home.spare.principalId, jwk: (await newKey()).publicJwk }) });
  add('Mutation.addPrincipalKey', "another member's principal", ADD_KEY, { vars: async () => ({ p: other().spare.principalId, jwk: (await newKey()).publicJwk }) });
  const REVOKE_KEY = 'mutation($kid: ID!) { revokePrincipalKey(kid: $kid, reason: "authz matrix") { kid } }';
  add('Mutation.revokePrincipalKey', 'own key (not the last)', REVOKE_KEY, { vars: (c) => ({ kid: pool('revokeOwnKey')(c) }) });
  add('Mutation.revokePrincipalKey', "own member's other principal's key", REVOKE_KEY, { vars: (c) => ({ kid: pool('revokeOwnMemberKey')(c) }) });
  add('Mutation.revokePrincipalKey', "another member's principal's key", REVOKE_KEY, { vars: (c) => ({ kid: pool('revokeOtherKey')(c) }) });

  // ----- Mutation: feedback, disputes, notifications, exclusions -----
  const ACK = 'mutation($id: ID!) { acknowledgeNotification(id: $id) { id } }';
  add('Mutation.acknowledgeNotification', "own member's notification", ACK, { vars: (c) => ({ id: c.home.notificationId }) });
  add('Mutation.acknowledgeNotification', "another member's notification", ACK, { vars: () => ({ id: other().notificationId }) });
  add('Mutation.addExclusion', 'a new value', 'mutation($i: ExclusionInput!) { addExclusion(input: $i) { id } }', {
    vars: () => ({ i: { ...wallet(), reason: 'authz matrix: benign' } }),
  });
  add('Mutation.removeExclusion', 'an exclusion in force', 'mutation($id: ID!) { removeExclusion(id: $id) { id } }', {
    vars: (c) => ({ id: pool('removeExclusion')(c) }),
  });
  const DISPUTE_IT = 'mutation($id: ID!) { disputeIndicator(id: $id, reason: "authz matrix") { id } }';
  add('Mutation.disputeIndicator', "another member's GREEN", DISPUTE_IT, { vars: (c) => ({ id: pool('disputeVisible')(c) }) });
  add('Mutation.disputeIndicator', "another member's RED", DISPUTE_IT, { vars: (c) => ({ id: pool('disputeRed')(c) }) });
  const SIGHTING = 'mutation($id: ID!) { reportSighting(indicatorId: $id, kind: SEEN, note: "authz matrix") { id } }';
  add('Mutation.reportSighting', "another member's GREEN", SIGHTING, { vars: () => ({ id: other().green.indicatorId }) });
  add('Mutation.reportSighting', "another member's RED", SIGHTING, { vars: () => ({ id: other().red.indicatorId }) });
  add('Mutation.resolveDispute', "another member's open dispute", 'mutation($id: ID!) { resolveDispute(id: $id, upheld: false, note: "authz matrix") { id } }', {
    vars: (c) => ({ id: pool('resolveDispute')(c) }),
  });

  // ----- Mutation: curation -----
  add('Mutation.reviewIndicator', 'a PENDING indicator', 'mutation($id: ID!) { reviewIndicator(id: $id, decision: APPROVE) { id } }', {
    vars: (c) => ({ id: pool('reviewIndicator')(c) }),
  });
  add('Mutation.reviewIndicators', 'a PENDING indicator', 'mutation($items: [ReviewItemInput!]!) { reviewIndicators(items: $items) { ok code } }', {
    vars: (c) => ({ items: [{ id: pool('reviewIndicators')(c), decision: 'APPROVE' }] }),
    pick: (d) => item(d.reviewIndicators[0]),
  });
  add('Mutation.revokeIndicator', 'an ACTIVE indicator', 'mutation($id: ID!) { revokeIndicator(id: $id, reason: "authz matrix") { id } }', {
    vars: (c) => ({ id: pool('revokeIndicator')(c) }),
  });
  add('Mutation.expireIndicator', 'an ACTIVE indicator', 'mutation($id: ID!) { expireIndicator(id: $id) { id } }', {
    vars: (c) => ({ id: pool('expireIndicator')(c) }),
  });

  // ----- Mutation: statements -----
  const ownStatement = async (c: Ctx) => {
    const signer = c.party ?? c.home.contributor;
    return statement(signer.key, { iss: signer.principalId });
  };
  const relayed = () => statement(other().contributor.key, { iss: other().contributor.principalId });
  const SUBMIT_ONE = 'mutation($jws: String!) { submitStatement(jws: $jws) { receipt } }';
  const SUBMIT_MANY = 'mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code } }';
  add('Mutation.submitStatement', 'own statement', SUBMIT_ONE, { vars: async (c) => ({ jws: await ownStatement(c) }) });
  add('Mutation.submitStatement', "another member's statement (relayed)", SUBMIT_ONE, { vars: async () => ({ jws: await relayed() }) });
  add('Mutation.submitStatements', 'own statement', SUBMIT_MANY, { vars: async (c) => ({ jws: [await ownStatement(c)] }), pick: (d) => item(d.submitStatements[0]) });
  add('Mutation.submitStatements', "another member's statement (relayed)", SUBMIT_MANY, {
    vars: async () => ({ jws: [await relayed()] }),
    pick: (d) => item(d.submitStatements[0]),
  });

  // ----- Sensitive fields -----
  const STATEMENTS = (field: string) => `query($id: ID!) { indicator(id: $id) { statements { id ${field} } } }`;
  const statementField = (field: 'jws' | 'receipt', home: (c: Ctx) => Home) => (d: any, c: Ctx) => {
    const found = d.indicator?.statements.find((st: { id: string }) => st.id === home(c).green.statementId);
    return found ? value(found[field]) : 'absent';
  };
  for (const field of ['jws', 'receipt'] as const) {
    add(`Statement.${field}`, "own member's statement", STATEMENTS(field), {
      vars: (c) => ({ id: c.home.green.indicatorId }),
      pick: statementField(field, (c) => c.home),
    });
    add(`Statement.${field}`, "another member's GREEN statement", STATEMENTS(field), {
      vars: () => ({ id: other().green.indicatorId }),
      pick: statementField(field, () => other()),
    });
  }
  add('Indicator.statements', "another member's GREEN statement", STATEMENTS('tlp'), {
    vars: () => ({ id: other().green.indicatorId }),
    pick: (d) => present((d.indicator?.statements ?? []).some((st: { id: string }) => st.id === other().green.statementId)),
  });
  add('Indicator.statements', "another member's RED statement on a visible indicator", STATEMENTS('tlp'), {
    vars: () => ({ id: fx.mixed.indicatorId }),
    pick: (d) => present((d.indicator?.statements ?? []).some((st: { id: string }) => st.id === fx.mixed.redStatementId)),
  });
  const SITES = 'query($id: ID!) { indicator(id: $id) { sites { fingerprint } } }';
  add('Indicator.sites', "another member's GREEN statement's site", SITES, {
    vars: () => ({ id: other().green.indicatorId }),
    pick: (d) => present((d.indicator?.sites ?? []).some((x: { fingerprint: string }) => x.fingerprint === other().green.siteFingerprint)),
  });
  add('Indicator.sites', "another member's RED statement's site on a visible indicator", SITES, {
    vars: () => ({ id: fx.mixed.indicatorId }),
    pick: (d) => present((d.indicator?.sites ?? []).some((x: { fingerprint: string }) => x.fingerprint === fx.mixed.redSiteFingerprint)),
  });
  const URLS = 'query($id: ID!) { indicator(id: $id) { sites { fingerprint url } } }';
  const siteUrl = (home: (c: Ctx) => Home) => (d: any, c: Ctx) => {
    const site = (d.indicator?.sites ?? []).find((x: { fingerprint: string }) => x.fingerprint === home(c).green.siteFingerprint);
    return site ? value(site.url) : 'absent';
  };
  add('ReportedSite.url', "own member's statement's site", URLS, { vars: (c) => ({ id: c.home.green.indicatorId }), pick: siteUrl((c) => c.home) });
  add('ReportedSite.url', "another member's statement's site", URLS, { vars: () => ({ id: other().green.indicatorId }), pick: siteUrl(() => other()) });
  // principal.create events by the bootstrap administrator (the secretariat), about each member.
  const CANONICAL =
    'query($m: ID!, $n: Int) { auditEvents(first: $n, filter: { action: "principal.create", actorMemberId: $m }) { edges { node { subjectMemberId canonical } } } }';
  const canonicalAbout = (memberId: (c: Ctx) => string) => (d: any, c: Ctx) => {
    const event = edges(d.auditEvents).find((n) => n.subjectMemberId === memberId(c));
    return event ? value(event.canonical) : 'absent';
  };
  add('AuditEvent.canonical', "a coordinator's event about own member", CANONICAL, {
    vars: () => ({ m: fx.secretariatId, n: 500 }),
    pick: canonicalAbout((c) => c.home.memberId),
  });
  add('AuditEvent.canonical', "a coordinator's event about another member", CANONICAL, {
    vars: () => ({ m: fx.secretariatId, n: 500 }),
    pick: canonicalAbout(() => other().memberId),
  });
  const MEMBER_PRINCIPALS = 'query($id: ID!) { member(id: $id) { principals { id } } }';
  add('Member.principals', 'own member', MEMBER_PRINCIPALS, { vars: (c) => ({ id: c.home.memberId }), pick: (d) => value(d.member?.principals) });
  add('Member.principals', 'another member', MEMBER_PRINCIPALS, { vars: () => ({ id: other().memberId }), pick: (d) => value(d.member?.principals) });
  add('Member.suspendedReason', 'another (suspended) member', 'query($id: ID!) { member(id: $id) { suspendedReason } }', {
    vars: () => ({ id: fx.suspendedMemberId }),
    pick: (d) => value(d.member?.suspendedReason),
  });
  add('Exclusion.existingIndicator', 'an exclusion of an existing indicator', '{ exclusions { id existingIndicator { id } } }', {
    pick: (d) => {
      const exclusion = d.exclusions.find((e: { id: string }) => e.id === fx.exclusionOfIndicator);
      return exclusion ? value(exclusion.existingIndicator) : 'absent';
    },
  });

  // ----- Guard rails on the caller itself: after everything else, one at a time -----
  add('Mutation.suspendMember', 'own member', SUSPEND, { vars: (c) => ({ id: c.home.memberId }), last: true, guardRail: true });
  add('Mutation.setPrincipalRoles', 'self, dropping ADMIN', SET_ROLES, {
    vars: (c) => ({ id: selfOrSpare(c).principalId, roles: ['AUDITOR'] }),
    last: true,
    guardRail: true,
  });
  add('Mutation.disablePrincipal', 'self', DISABLE, { vars: (c) => ({ id: selfOrSpare(c).principalId }), last: true, guardRail: true });
  add('Mutation.revokePrincipalKey', 'own last key', REVOKE_KEY, {
    vars: (c) => ({ kid: selfOrSpare(c).key.kid }),
    last: true,
    guardRail: true,
    // Keys the callers added to themselves above would make the main key not the last one.
    before: async () => {
      await Promise.all(fx.selfAddedKids.map((kid) => admin(REVOKE_KEY, { kid }).catch(() => undefined)));
    },
  });
  return s;
}

const SUBSCRIPTION_TARGETS = ['an open change', "another member's RED change", "an open change after the subscriber's member was suspended"] as const;

// ---------------------------------------------------------------------------------------------
// Running and classifying
// ---------------------------------------------------------------------------------------------

async function admin<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return must<T>(app.gql(query, variables));
}

async function must<T = any>(pending: Promise<GraphqlResponse<any>>): Promise<T> {
  const res = await pending;
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data as T;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function contexts(): Ctx[] {
  return CALLERS.map((caller, index) => ({ index, caller, party: fx.parties[index], home: fx[caller.home] }));
}

async function runOne(scenario: Scenario, c: Ctx): Promise<Outcome> {
  if (scenario.run) return scenario.run(c);
  const variables = scenario.vars ? await scenario.vars(c) : {};
  const res = await app.gql(scenario.query, variables, c.party ? c.party.key : null);
  if (res.errors?.length) return String(res.errors[0].extensions?.code ?? 'ERROR');
  return scenario.pick ? scenario.pick(res.data, c) : 'ok';
}

function record(matrix: Matrix, op: string, target: string, caller: string, outcome: Outcome): void {
  matrix.operations[op] ??= {};
  matrix.operations[op][target] ??= {};
  matrix.operations[op][target][caller] = outcome;
}

async function runMatrix(): Promise<Matrix> {
  const matrix: Matrix = { callers: CALLERS.map((c) => c.id), operations: {} };
  const all = scenarios();
  const ctxs = contexts();
  // Scenario order fixes the order of targets within an operation.
  for (const s of all) for (const c of ctxs) record(matrix, s.op, s.target, c.caller.id, 'not run');
  const first = all.filter((s) => !s.last).flatMap((s) => ctxs.map((c) => ({ s, c })));
  await Promise.all([
    mapLimit(first, 16, async ({ s, c }) => record(matrix, s.op, s.target, c.caller.id, await runOne(s, c))),
    subscriptionOutcomes(ctxs).then((rows) => {
      for (const target of SUBSCRIPTION_TARGETS) for (const c of ctxs) record(matrix, 'Subscription.indicatorChanged', target, c.caller.id, rows[target][c.index]);
    }),
  ]);
  for (const s of all.filter((x) => x.last)) {
    await s.before?.();
    for (const c of ctxs) record(matrix, s.op, s.target, c.caller.id, await runOne(s, c));
  }
  return sortMatrix(matrix);
}

const waitFor = async (check: () => boolean, ms: number): Promise<boolean> => {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
};

/**
 * indicatorChanged over graphql-ws for every caller at once, the token in connection_init. For
 * "after the subscriber's member was suspended", each caller has a twin (same role, same kind of
 * member, a member of its own) whose member is suspended while its subscription runs: SPEC 1 says
 * a suspended member's principals are refused, and every check is made per request.
 */
async function subscriptionOutcomes(ctxs: Ctx[]): Promise<Record<(typeof SUBSCRIPTION_TARGETS)[number], Outcome[]>> {
  interface Watch {
    received: Set<string>;
    connected: boolean;
    refused?: Outcome;
    dispose: () => void | Promise<void>;
  }
  const refusal = (e: unknown): Outcome => {
    if (Array.isArray(e)) return String((e[0] as { extensions?: { code?: string } })?.extensions?.code ?? 'ERROR');
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'number') return code === 4401 || code === 4403 ? 'UNAUTHENTICATED' : `closed ${code}`;
    return 'ERROR';
  };
  const watch = async (party: Party | null): Promise<Watch> => {
    const token = party ? await tokenFor(party.key, { audience: app.config.audience }) : undefined;
    const w: Watch = { received: new Set(), connected: false, dispose: () => undefined };
    const client = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      on: { connected: () => (w.connected = true) },
    });
    client.subscribe(
      { query: 'subscription { indicatorChanged { indicatorId } }' },
      {
        next: (msg) => {
          const id = (msg.data as { indicatorChanged?: { indicatorId: string } } | null)?.indicatorChanged?.indicatorId;
          if (id) w.received.add(id);
          else if (msg.errors) w.refused ??= refusal(msg.errors);
        },
        error: (e) => void (w.refused ??= refusal(e)),
        complete: () => void (w.refused ??= 'completed'),
      },
    );
    w.dispose = () => client.dispose();
    return w;
  };
  const callers = await Promise.all(ctxs.map((c) => watch(c.party)));
  const twins = await Promise.all(ctxs.map((c) => watch(fx.twins[c.index])));
  const watches = [...callers, ...twins];
  try {
    await waitFor(() => watches.every((w) => w.refused || w.connected), 5000);
    const live = (list: Watch[]) => list.filter((w) => !w.refused);
    const submit = async (party: Party, extra: Partial<StatementInput> = {}) => {
      const jws = await statement(party.key, { iss: party.principalId, ...extra });
      const data = await must(app.gql('mutation($jws: String!) { submitStatement(jws: $jws) { indicator { id } } }', { jws }, party.key));
      return data.submitStatement.indicator.id as string;
    };
    // A subscription starts reading the feed once its generator runs: probe until each live one has seen a change.
    const probeUntil = Date.now() + 8000;
    while (live(watches).some((w) => w.received.size === 0) && Date.now() < probeUntil) {
      await submit(fx.coord.contributor);
      await waitFor(() => live(watches).every((w) => w.received.size > 0), 250);
    }
    // beta's RED change (visible to beta and coordinators only), then an open one: the feed is
    // delivered in commit order, so once the open one arrives the RED one has come or never will.
    const red = await submit(fx.beta.contributor, { tlp: 'RED' });
    const open = await submit(fx.coord.contributor);
    await waitFor(() => live(watches).every((w) => w.received.has(open)), 5000);
    // Now the twins' members are suspended, and one more open change is made.
    await Promise.all(fx.twinMembers.map((id) => admin(SUSPEND_MEMBER, { id, r: 'authz matrix: suspended while subscribed' })));
    const afterSuspension = await submit(fx.coord.contributor);
    await waitFor(() => live(callers).every((w) => w.received.has(afterSuspension)), 5000);
    await waitFor(() => live(twins).every((w) => w.received.has(afterSuspension)), 1000);
    const outcome = (w: Watch, id: string) => w.refused ?? (w.received.has(id) ? 'ok' : 'absent');
    return {
      'an open change': callers.map((w) => outcome(w, open)),
      "another member's RED change": callers.map((w) => outcome(w, red)),
      "an open change after the subscriber's member was suspended": twins.map((w) => outcome(w, afterSuspension)),
    };
  } finally {
    await Promise.all(watches.map((w) => w.dispose()));
  }
}

// ---------------------------------------------------------------------------------------------
// The table: schema operations, expected.json and its markdown
// ---------------------------------------------------------------------------------------------

const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'];
/** Endpoints beside GraphQL that answer per caller (README "HTTP"). */
const HTTP_OPERATIONS = ['POST /v1/screen'];
const isHttp = (op: string) => HTTP_OPERATIONS.includes(op);

function schemaOperations(): string[] {
  const schema = buildSchema(readFileSync(SCHEMA_FILE, 'utf8'));
  const ops: string[] = [];
  for (const name of ROOT_TYPES) {
    const type = schema.getType(name);
    if (type && isObjectType(type)) ops.push(...Object.keys(type.getFields()).map((f) => `${name}.${f}`));
  }
  for (const field of SENSITIVE_FIELDS) {
    const [typeName, fieldName] = field.split('.');
    const type = schema.getType(typeName);
    if (!type || !isObjectType(type) || !type.getFields()[fieldName]) throw new Error(`${field} is not in schema.graphql`);
    ops.push(field);
  }
  ops.push(...HTTP_OPERATIONS);
  return sortOps(ops);
}

function sortOps(ops: string[]): string[] {
  const rank = (op: string) => {
    if (isHttp(op)) return ROOT_TYPES.length + 1;
    const i = ROOT_TYPES.indexOf(op.split('.')[0]);
    return i < 0 ? ROOT_TYPES.length : i;
  };
  return [...ops].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function sortMatrix(matrix: Matrix): Matrix {
  const operations: Matrix['operations'] = {};
  for (const op of sortOps(Object.keys(matrix.operations))) operations[op] = matrix.operations[op];
  return { callers: matrix.callers, operations };
}

/** Pretty JSON with one line per (operation, target). */
function formatExpected(matrix: Matrix): string {
  const lines = ['{', `  "callers": ${JSON.stringify(matrix.callers)},`, '  "operations": {'];
  const ops = Object.keys(matrix.operations);
  ops.forEach((op, i) => {
    lines.push(`    ${JSON.stringify(op)}: {`);
    const targets = Object.keys(matrix.operations[op]);
    targets.forEach((target, j) => {
      const row = matrix.operations[op][target];
      const cells = matrix.callers.map((c) => `${JSON.stringify(c)}: ${JSON.stringify(row[c])}`).join(', ');
      lines.push(`      ${JSON.stringify(target)}: { ${cells} }${j < targets.length - 1 ? ',' : ''}`);
    });
    lines.push(`    }${i < ops.length - 1 ? ',' : ''}`);
  });
  lines.push('  }', '}');
  return `${lines.join('\n')}\n`;
}

const CELL: Record<string, string> = { ok: 'allowed', null: 'null (hidden)', absent: 'absent (hidden)' };

function renderDocs(matrix: Matrix): string {
  const header = (caller: string) => caller.replace(' ', '<br>');
  const out = [
    '# Authorization matrix',
    '',
    '<!-- Generated from test/authz/expected.json by test/e2e/authz-matrix.e2e-spec.ts: do not edit by hand. -->',
    '',
    'What the service answers to every operation of `schema.graphql` (and to the fields whose answer depends on who',
    'asks, and to the HTTP endpoints beside GraphQL), for each caller, as `test/e2e/authz-matrix.e2e-spec.ts` measures',
    'it over HTTP with real signed tokens. The',
    'test fails when the service, the schema, `test/authz/expected.json` or this file disagree;',
    '`UPDATE_AUTHZ=1 node --experimental-vm-modules node_modules/jest/bin/jest.js test/e2e/authz-matrix` rewrites the',
    'JSON and this file from what the service answers (review the diff against SPEC section 1).',
    '',
    '**Callers**: a principal holding one role alone, in a `COORDINATOR` member (*coordinator*) or in a',
    '`CRYPTO_EXCHANGE` member (*member*; CURATOR and ADMIN cannot be given to it), and a request without a token.',
    '"Own member" is the caller\'s member; "another member" is a `CARD_PROCESSOR` member.',
    '',
    '**Cells**: *allowed* — answered, and the asked object or field is there; *null (hidden)* — answered, but the object',
    'or field is null for this caller; *absent (hidden)* — answered, but the target is not in the list (for a',
    'subscription: the change is never delivered); otherwise the error\'s `extensions.code` (`UNAUTHENTICATED` for a',
    'subscription whose connection is closed at `connection_init`). `BAD_USER_INPUT` appears only in guard-rail rows',
    '(nobody suspends their own member, disables themself, drops their own ADMIN role or revokes their last key;',
    'CURATOR only in COORDINATOR members).',
    '',
  ];
  const groups: [string, (op: string) => boolean][] = [
    ['Queries', (op) => op.startsWith('Query.')],
    ['Mutations', (op) => op.startsWith('Mutation.')],
    ['Subscriptions', (op) => op.startsWith('Subscription.')],
    ['Fields', (op) => !isHttp(op) && !ROOT_TYPES.includes(op.split('.')[0])],
    ['HTTP endpoints', isHttp],
  ];
  for (const [title, belongs] of groups) {
    const ops = Object.keys(matrix.operations).filter(belongs);
    if (ops.length === 0) continue;
    out.push(`## ${title}`, '');
    out.push(`| Operation | Target | ${matrix.callers.map(header).join(' | ')} |`);
    out.push(`| --- | --- | ${matrix.callers.map(() => '---').join(' | ')} |`);
    for (const op of ops) {
      const name = !isHttp(op) && ROOT_TYPES.includes(op.split('.')[0]) ? op.slice(op.indexOf('.') + 1) : op;
      for (const [target, row] of Object.entries(matrix.operations[op])) {
        out.push(`| \`${name}\` | ${target} | ${matrix.callers.map((c) => CELL[row[c]] ?? row[c]).join(' | ')} |`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}

function differences(expected: Matrix, actual: Matrix): string[] {
  const diffs: string[] = [];
  const ops = new Set([...Object.keys(expected.operations), ...Object.keys(actual.operations)]);
  for (const op of ops) {
    const e = expected.operations[op] ?? {};
    const a = actual.operations[op] ?? {};
    for (const target of new Set([...Object.keys(e), ...Object.keys(a)])) {
      for (const caller of new Set([...expected.callers, ...actual.callers])) {
        const want = e[target]?.[caller] ?? '(missing)';
        const got = a[target]?.[caller] ?? '(missing)';
        if (want !== got) diffs.push(`${op} [${target}] ${caller}: expected ${want}, got ${got}`);
      }
    }
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const CREATE_MEMBER = 'mutation($i: CreateMemberInput!) { createMember(input: $i) { id } }';
const SUSPEND_MEMBER = 'mutation($id: ID!, $r: String!) { suspendMember(id: $id, reason: $r) { id } }';
const CREATE_PRINCIPAL = 'mutation($i: CreatePrincipalInput!) { createPrincipal(input: $i) { id } }';
const DISABLE_PRINCIPAL = 'mutation($id: ID!) { disablePrincipal(id: $id, reason: "fixture") { id } }';
const ADD_KEY = 'mutation($p: ID!, $jwk: JSON!) { addPrincipalKey(principalId: $p, publicJwk: $jwk) { kid } }';
const SUBMIT_ALL = 'mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code error result { indicator { id fingerprint } statement { id } } } }';

async function createMember(kind: string): Promise<string> {
  return (await admin(CREATE_MEMBER, { i: { name: `authz ${kind.toLowerCase()} ${unique()}`, kind } })).createMember.id;
}

async function createPrincipal(memberId: string, roles: Role[]): Promise<Party> {
  const key = await newKey();
  const data = await admin(CREATE_PRINCIPAL, { i: { memberId, name: `authz-${roles.join('-').toLowerCase()}-${unique()}`, roles, publicJwk: key.publicJwk } });
  return { memberId, principalId: data.createPrincipal.id, key };
}

async function addKey(principalId: string): Promise<string> {
  return (await admin(ADD_KEY, { p: principalId, jwk: (await newKey()).publicJwk })).addPrincipalKey.kid;
}

type Submitted = { indicatorId: string; fingerprint: string; statementId: string };

/** Submits statements by the party in one call; each must be accepted. */
async function submitAll(party: Party, items: Partial<StatementInput>[]): Promise<Submitted[]> {
  const jws = await Promise.all(items.map((extra) => statement(party.key, { iss: party.principalId, ...extra })));
  const data = await must(app.gql(SUBMIT_ALL, { jws }, party.key));
  return data.submitStatements.map((o: any) => {
    if (!o.ok) throw new Error(`fixture statement refused: ${o.code} ${o.error}`);
    return { indicatorId: o.result.indicator.id, fingerprint: o.result.indicator.fingerprint, statementId: o.result.statement.id };
  });
}

const perCaller = <T>(fn: (c: Ctx) => Promise<T>) => Promise.all(contexts().map(fn));
const times = <T>(fn: () => Promise<T>) => Promise.all(CALLERS.map(() => fn()));

async function setUpFixtures(): Promise<void> {
  const secretariatId = (await admin('{ me { member { id } } }')).me.member.id as string;
  const [coordId, alphaId, betaId, suspendedMemberId] = await Promise.all(
    ['COORDINATOR', 'CRYPTO_EXCHANGE', 'CARD_PROCESSOR', 'CARD_PROCESSOR'].map((kind) => createMember(kind)),
  );
  const [coordParties, alphaParties, [betaContributor, betaSpare], [coordSpare], [alphaSpare]] = await Promise.all([
    Promise.all(ROLES.map((r) => createPrincipal(coordId, [r]))),
    Promise.all(MEMBER_ROLES.map((r) => createPrincipal(alphaId, [r]))),
    Promise.all([createPrincipal(betaId, ['CONTRIBUTOR']), createPrincipal(betaId, ['SCREENER'])]),
    Promise.all([createPrincipal(coordId, ['SCREENER'])]),
    Promise.all([createPrincipal(alphaId, ['SCREENER'])]),
  ]);
  await admin(SUSPEND_MEMBER, { id: suspendedMemberId, r: 'authz matrix: suspended for a reason only some may read' });
  const coordContributor = coordParties[ROLES.indexOf('CONTRIBUTOR')];
  const alphaContributor = alphaParties[MEMBER_ROLES.indexOf('CONTRIBUTOR')];
  const site = () => `https://site-${unique()}.example.com/report`;
  const siteFp = (url: string) => {
    const s = siteFingerprint(url);
    if (!('fingerprint' in s)) throw new Error(`bad fixture URL ${url}`);
    return s.fingerprint;
  };

  // beta's statements first: its RED (the only DOMAIN indicator) is the first change of the feed.
  const betaRedValue = `authz-red-${unique()}.example.com`;
  const betaGreen = { ...wallet(), site: site() };
  const mixed = { ...wallet(), redSite: site(), greenSite: site() };
  const poolSizes: [PoolName, string][] = [
    ['disputeVisible', 'GREEN'],
    ['disputeRed', 'RED'],
    ['resolveDispute', 'GREEN'],
    ['reviewIndicator', 'GREEN'],
    ['reviewIndicators', 'GREEN'],
    ['revokeIndicator', 'GREEN'],
    ['expireIndicator', 'GREEN'],
  ];
  const betaSubmitted = await submitAll(betaContributor, [
    { indicator: { kind: 'DOMAIN', value: betaRedValue }, tlp: 'RED' },
    { indicator: { kind: betaGreen.kind, network: betaGreen.network, value: betaGreen.value }, tlp: 'GREEN', evidence: { sites: [betaGreen.site], reference: 'authz' } },
    { indicator: { kind: mixed.kind, network: mixed.network, value: mixed.value }, tlp: 'RED', evidence: { sites: [mixed.redSite], reference: 'authz' } },
    ...poolSizes.flatMap(([, tlp]) => CALLERS.map(() => ({ indicator: wallet(), tlp }))),
  ]);
  const [betaRedS, betaGreenS, mixedRedS, ...poolStatements] = betaSubmitted;
  const indicatorPools = {} as Record<PoolName, string[]>;
  poolSizes.forEach(([name], i) => {
    indicatorPools[name] = poolStatements.slice(i * CALLERS.length, (i + 1) * CALLERS.length).map((p) => p.indicatorId);
  });

  const coordGreen = { ...wallet(), site: site() };
  const notified = wallet();
  const [coordGreenS, coordRedS, , notifiedS] = await submitAll(coordContributor, [
    { indicator: { kind: coordGreen.kind, network: coordGreen.network, value: coordGreen.value }, tlp: 'GREEN', evidence: { sites: [coordGreen.site], reference: 'authz' } },
    { indicator: wallet(), tlp: 'RED' },
    { indicator: { kind: mixed.kind, network: mixed.network, value: mixed.value }, tlp: 'GREEN', evidence: { sites: [mixed.greenSite], reference: 'authz' } },
    { indicator: notified, tlp: 'GREEN' },
  ]);
  const alphaGreen = { ...wallet(), site: site() };
  const [alphaGreenS, alphaRedS] = await submitAll(alphaContributor, [
    { indicator: { kind: alphaGreen.kind, network: alphaGreen.network, value: alphaGreen.value }, tlp: 'GREEN', evidence: { sites: [alphaGreen.site], reference: 'authz' } },
    { indicator: wallet(), tlp: 'RED' },
  ]);

  // A curator activates beta's indicators (other than those left PENDING for review).
  const approve = [betaRedS.indicatorId, betaGreenS.indicatorId, ...(['disputeVisible', 'disputeRed', 'resolveDispute', 'revokeIndicator', 'expireIndicator'] as PoolName[]).flatMap((n) => indicatorPools[n])];
  const reviewed = await admin('mutation($items: [ReviewItemInput!]!) { reviewIndicators(items: $items) { ok code error } }', {
    items: approve.map((id) => ({ id, decision: 'APPROVE' })),
  });
  for (const o of reviewed.reviewIndicators) if (!o.ok) throw new Error(`fixture approval refused: ${o.code} ${o.error}`);

  // Disputes: one per member (coord's and alpha's on beta's GREEN, beta's on the coordinator's), and open ones to resolve.
  const DISPUTE_IT = 'mutation($id: ID!) { disputeIndicator(id: $id, reason: "fixture") { id } }';
  const dispute = async (party: Party, indicatorId: string) => (await must(app.gql(DISPUTE_IT, { id: indicatorId }, party.key))).disputeIndicator.id as string;
  const [coordDispute, alphaDispute, betaDispute, resolvePool] = await Promise.all([
    dispute(coordContributor, betaGreenS.indicatorId),
    dispute(alphaContributor, betaGreenS.indicatorId),
    dispute(betaContributor, coordGreenS.indicatorId),
    Promise.all(indicatorPools.resolveDispute.map((id) => dispute(betaContributor, id))),
  ]);

  // Notifications: every member ACTIONED an indicator that is then revoked.
  const SIGHTING = 'mutation($id: ID!) { reportSighting(indicatorId: $id, kind: ACTIONED) { id } }';
  await Promise.all([coordContributor, alphaContributor, betaContributor].map((p) => must(app.gql(SIGHTING, { id: notifiedS.indicatorId }, p.key))));
  await admin('mutation($id: ID!) { revokeIndicator(id: $id, reason: "fixture") { id } }', { id: notifiedS.indicatorId });
  const notificationOf = async (p: Party) => {
    const list = (await must(app.gql('{ notifications { id } }', {}, p.key))).notifications as { id: string }[];
    if (list.length !== 1) throw new Error(`expected one notification, got ${list.length}`);
    return list[0].id;
  };
  const [coordNotification, alphaNotification, betaNotification] = await Promise.all([coordContributor, alphaContributor, betaContributor].map(notificationOf));

  const home = (memberId: string, spare: Party, contributor: Party, green: Submitted & { value: string; site: string }, red: Submitted & { value: string }, disputeId: string, notificationId: string): Home => ({
    memberId,
    spare,
    contributor,
    green: { indicatorId: green.indicatorId, statementId: green.statementId, value: green.value, fingerprint: green.fingerprint, siteFingerprint: siteFp(green.site) },
    red: { indicatorId: red.indicatorId, value: red.value, fingerprint: red.fingerprint },
    disputeId,
    notificationId,
  });
  fx = {
    secretariatId,
    coord: home(coordId, coordSpare, coordContributor, { ...coordGreenS, ...coordGreen }, { ...coordRedS, value: '' }, coordDispute, coordNotification),
    alpha: home(alphaId, alphaSpare, alphaContributor, { ...alphaGreenS, ...alphaGreen }, { ...alphaRedS, value: '' }, alphaDispute, alphaNotification),
    beta: home(betaId, betaSpare, betaContributor, { ...betaGreenS, ...betaGreen }, { ...betaRedS, value: betaRedValue }, betaDispute, betaNotification),
    parties: CALLERS.map((c) => (c.role === null ? null : c.home === 'coord' ? coordParties[ROLES.indexOf(c.role)] : alphaParties[MEMBER_ROLES.indexOf(c.role)])),
    suspendedMemberId,
    mixed: { indicatorId: mixedRedS.indicatorId, redStatementId: mixedRedS.statementId, redSiteFingerprint: siteFp(mixed.redSite) },
    exclusionOfIndicator: '',
    betaWebhookId: '',
    pools: { ...indicatorPools, resolveDispute: resolvePool } as Record<PoolName, string[]>,
    selfAddedKids: [],
    twins: [],
    twinMembers: [],
  };

  // Fresh targets for the operations that change them: members, principals, keys, exclusions.
  const ADD_EXCLUSION = 'mutation($i: ExclusionInput!) { addExclusion(input: $i) { id } }';
  const disabledPrincipal = async (memberId: string) => {
    const p = await createPrincipal(memberId, ['SCREENER']);
    await admin(DISABLE_PRINCIPAL, { id: p.principalId });
    return p.principalId;
  };
  const [suspendPool, reinstatePool, disableOwn, disableOther, enableOwn, enableOther, revokeOwnKey, revokeOwnMemberKey, revokeOtherKey, removeExclusion, existing] =
    await Promise.all([
      times(() => createMember('CARD_PROCESSOR')),
      times(async () => {
        const id = await createMember('CRYPTO_EXCHANGE');
        await admin(SUSPEND_MEMBER, { id, r: 'fixture' });
        return id;
      }),
      perCaller(async (c) => (await createPrincipal(c.home.memberId, ['SCREENER'])).principalId),
      times(async () => (await createPrincipal(betaId, ['SCREENER'])).principalId),
      perCaller((c) => disabledPrincipal(c.home.memberId)),
      times(() => disabledPrincipal(betaId)),
      perCaller((c) => addKey((c.party ?? c.home.spare).principalId)),
      perCaller((c) => addKey(c.home.spare.principalId)),
      times(() => addKey(betaSpare.principalId)),
      times(async () => (await admin(ADD_EXCLUSION, { i: { ...wallet(), reason: 'fixture' } })).addExclusion.id as string),
      admin(ADD_EXCLUSION, { i: { kind: betaGreen.kind, network: betaGreen.network, value: betaGreen.value, reason: 'fixture: an existing indicator' } }),
    ]);
  Object.assign(fx.pools, {
    suspendMember: suspendPool,
    reinstateMember: reinstatePool,
    disableOwn,
    disableOther,
    enableOwn,
    enableOther,
    revokeOwnKey,
    revokeOwnMemberKey,
    revokeOtherKey,
    removeExclusion,
  });
  fx.exclusionOfIndicator = existing.addExclusion.id;
  const REGISTER_WEBHOOK = 'mutation($i: WebhookInput!) { registerWebhook(input: $i) { id } }';
  // Nothing listens at port 9: deliveries fail and are retried; only registration matters here.
  const webhook = async () =>
    (await admin(REGISTER_WEBHOOK, { i: { principalId: betaSpare.principalId, url: 'https://127.0.0.1:9/authz', events: ['NOTIFICATION'] } })).registerWebhook.id as string;
  const [retireCategory, disableWebhook, enableWebhook, betaWebhookId] = await Promise.all([
    times(async () => {
      const name = `AUTHZ_${unique().toUpperCase()}`;
      await admin('mutation($i: CategoryInput!) { addCategory(input: $i) { name } }', { i: { name, description: 'fixture' } });
      return name;
    }),
    times(webhook),
    times(async () => {
      const id = await webhook();
      await admin('mutation($id: ID!) { disableWebhook(id: $id, reason: "fixture") { id } }', { id });
      return id;
    }),
    webhook(),
  ]);
  Object.assign(fx.pools, { retireCategory, disableWebhook, enableWebhook });
  fx.betaWebhookId = betaWebhookId;
  const twinCoord = await createMember('COORDINATOR');
  const twinAlpha = await createMember('CRYPTO_EXCHANGE');
  fx.twinMembers = [twinCoord, twinAlpha];
  fx.twins = await Promise.all(CALLERS.map((c) => (c.role === null ? null : createPrincipal(c.home === 'coord' ? twinCoord : twinAlpha, [c.role]))));
}

// ---------------------------------------------------------------------------------------------

describe('authorization matrix (schema.graphql × callers)', () => {
  let actual: Matrix;
  let elapsed = 0;

  beforeAll(async () => {
    const started = Date.now();
    app = await startTestApp({ CORDON_DB_POOL_SIZE: '10' });
    await setUpFixtures();
    actual = await runMatrix();
    elapsed = Date.now() - started;
    if (UPDATE) {
      mkdirSync(new URL('.', EXPECTED_FILE), { recursive: true });
      mkdirSync(new URL('.', DOCS_FILE), { recursive: true });
      writeFileSync(EXPECTED_FILE, formatExpected(actual));
      writeFileSync(DOCS_FILE, renderDocs(actual));
    }
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
  });

  const expected = (): Matrix => JSON.parse(readFileSync(EXPECTED_FILE, 'utf8')) as Matrix;

  it('the matrix covers every operation of schema.graphql, and nothing else', () => {
    const ops = schemaOperations();
    expect(Object.keys(actual.operations)).toEqual(ops);
    expect(Object.keys(expected().operations)).toEqual(ops);
    expect(expected().callers).toEqual(CALLERS.map((c) => c.id));
  });

  it('the service answers every (operation, caller) as test/authz/expected.json says (UPDATE_AUTHZ=1 rewrites it)', () => {
    expect(differences(expected(), actual)).toEqual([]);
  });

  it('docs/authorization.md is generated from test/authz/expected.json', () => {
    expect(readFileSync(DOCS_FILE, 'utf8')).toBe(renderDocs(expected()));
  });

  it('every outcome is about authorization: BAD_USER_INPUT only in guard-rail rows, no validation or internal errors', () => {
    const guardRails = new Set(scenarios().filter((s) => s.guardRail).map((s) => `${s.op} [${s.target}]`));
    const smells: string[] = [];
    for (const [op, targets] of Object.entries(actual.operations)) {
      for (const [target, row] of Object.entries(targets)) {
        for (const [caller, outcome] of Object.entries(row)) {
          const bad = outcome === 'BAD_USER_INPUT' ? !guardRails.has(`${op} [${target}]`) : !AUTHORIZATION_OUTCOMES.includes(outcome);
          if (bad) smells.push(`${op} [${target}] ${caller}: ${outcome}`);
        }
      }
    }
    expect(smells).toEqual([]);
    // A request without a token is refused everywhere.
    for (const targets of Object.values(actual.operations)) for (const row of Object.values(targets)) expect(row['no token']).toBe('UNAUTHENTICATED');
  });

  it('runs in well under a minute', () => {
    expect(elapsed).toBeLessThan(45_000);
  });
});
