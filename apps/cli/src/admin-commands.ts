import { promises as fs } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Command, Option } from 'commander';
import { InvalidArgumentError } from 'commander';
import { JwkError, parsePrivateJwk, parsePublicJwk, type PrivateJwk, publicPart, type PublicJwk } from '@app/signing';

/**
 * The coordinators' and administrators' daily jobs: thin wrappers over the GraphQL API (members,
 * principals, keys, review, disputes, exclusions, sightings, indicators, categories,
 * notifications, webhooks, audit events). Each prints a compact
 * table or `key: value` lines, or with `--json` the GraphQL data; a GraphQL error is
 * `error CODE: message` on stderr and exit 2 (callGraphql), a bad flag a message naming it and
 * exit 1 before anything is sent.
 */

export interface ApiOptions {
  key: string;
  url: string;
  audience: string;
}

/** What main.ts lends: the signed GraphQL call and the shared options and checks. */
export interface CliHelpers {
  callGraphql(options: ApiOptions, query: string, variables?: Record<string, unknown>): Promise<unknown>;
  keyOption(): Option;
  urlOption(): Option;
  audienceOption(): Option;
  fail(message: string): never;
  readKey(file: string): Promise<PrivateJwk>;
  positiveInt(value: string): number;
}

type Opts = ApiOptions & { json?: boolean };
type Obj = Record<string, unknown>;

const MEMBER_KINDS = ['CARD_PROCESSOR', 'COORDINATOR', 'CRYPTO_EXCHANGE'];
const ROLES = ['ADMIN', 'AUDITOR', 'CONTRIBUTOR', 'CURATOR', 'SCREENER'];
const INDICATOR_KINDS = ['WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL'];
const INDICATOR_STATUSES = ['ACTIVE', 'DISPUTED', 'EXPIRED', 'PENDING', 'REJECTED', 'REVOKED'];
const SIGHTING_KINDS = ['SEEN', 'FALSE_POSITIVE', 'ACTIONED'];
const DISPUTE_STATUSES = ['OPEN', 'UPHELD', 'REJECTED'];
const WEBHOOK_EVENTS = ['NOTIFICATION', 'CHANGE'];
/** reviewIndicators takes at most this many items a call. */
const REVIEW_BATCH = 1000;

const KEY = 'kid alg status createdAt lastUsedAt revokedAt revokedReason';
const PRINCIPAL = `id name roles disabled createdAt member { id name } keys { ${KEY} }`;
const MEMBER = 'id name kind suspended suspendedAt suspendedReason createdAt';
const INDICATOR = 'id kind network value status category confidence attestationCount version';
const DISPUTE = 'id status reason resolution createdAt resolvedAt indicator { id status value } member { id name }';
const EXCLUSION = 'id kind network value reason fingerprint createdAt createdBy removedAt removedBy';
const WEBHOOK = 'id url description principalId memberId events disabledAt disabledReason consecutiveFailures pending nextAttemptAt createdAt';
const NOTIFICATION = 'id kind message createdAt readAt indicator { id status }';
const CATEGORY = 'name description createdAt createdBy retiredAt retireReason';

// ---- output ----------------------------------------------------------------------------------

/** One value as a table cell: lists joined, a nested object by its id (or name), nothing as `-`. */
function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cell).join(',') : '-';
  if (typeof value === 'object') {
    const o = value as Obj;
    if ('kid' in o) return `${String(o.kid)}(${String(o.status)})`;
    return String(o.id ?? o.name ?? JSON.stringify(o));
  }
  return String(value).replace(/\s+/g, ' ');
}

/** A compact table: a header row, columns padded to their widest cell; `(none)` when empty. */
function table(rows: Obj[], columns: string[]): string {
  if (rows.length === 0) return '(none)\n';
  const get = (row: Obj, column: string) => cell(column.split('.').reduce<unknown>((v, k) => (v as Obj | null | undefined)?.[k], row));
  const cells = [columns, ...rows.map((row) => columns.map((c) => get(row, c)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

/** `key: value` lines; nested objects as `key.sub: value`, a list of objects as an indented table. */
function fields(object: Obj, prefix = ''): string {
  let text = '';
  for (const [k, v] of Object.entries(object)) {
    if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'object') {
      const columns = Object.keys(v[0] as Obj);
      text += `${prefix}${k}:\n` + table(v as Obj[], columns).replace(/^(?=.)/gm, '  ');
    } else if (v && typeof v === 'object' && !Array.isArray(v)) text += fields(v as Obj, `${prefix}${k}.`);
    else text += `${prefix}${k}: ${cell(v)}\n`;
  }
  return text;
}

/** `--json`: the GraphQL data as JSON; otherwise what `human` makes of it. */
function print(opts: Opts, data: unknown, human: () => string): void {
  process.stdout.write(opts.json ? JSON.stringify(data, null, 2) + '\n' : human());
}

/** A connection's next page, named on stderr so a table on stdout stays a table. */
function morePages(pageInfo: { hasNextPage: boolean; endCursor: string | null }, opts: Opts): void {
  if (pageInfo.hasNextPage && !opts.json) process.stderr.write(`more: pass --after ${pageInfo.endCursor}\n`);
}

// ---- flag parsers (a bad value names its flag, exit 1, nothing sent) --------------------------

const oneOf = (values: string[]) => (value: string) => {
  const v = value.toUpperCase();
  if (!values.includes(v)) throw new InvalidArgumentError(`must be one of ${values.join(', ')}`);
  return v;
};
/** Repeatable, and comma-separated too: `--role CONTRIBUTOR --role SCREENER` or `--role CONTRIBUTOR,SCREENER`. */
const roles = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean).map(oneOf(ROLES))];
const events = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean).map(oneOf(WEBHOOK_EVENTS))];
/** An absolute http(s) URL; the service refuses http unless it allows it (CORDON_WEBHOOK_ALLOW_HTTP). */
const endpoint = (value: string) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('not an absolute URL (https://host/path)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError(`must be https:// (got ${url.protocol}//)`);
  return value;
};
const bool = (value: string) => {
  if (/^(true|yes)$/i.test(value)) return true;
  if (/^(false|no)$/i.test(value)) return false;
  throw new InvalidArgumentError('must be true or false');
};
const time = (value: string) => {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('must be a date-time, e.g. 2025-01-31T12:00:00Z');
  return new Date(value).toISOString();
};

export function registerAdminCommands(program: Command, audit: Command, h: CliHelpers): void {
  const gql = async <T>(opts: Opts, query: string, variables: Obj = {}) => (await h.callGraphql(opts, query, variables)) as T;
  const positiveInt = (value: string) => h.positiveInt(value);

  /** The options every API command takes: key, URL, audience, --json. */
  const api = (command: Command) =>
    command
      .option('--json', 'print the GraphQL data as JSON')
      .addOption(h.keyOption())
      .addOption(h.urlOption())
      .addOption(h.audienceOption());

  /** A public JWK from a file or inline JSON; a private key made by `cordon keygen` gives its public part (the private part is never sent). */
  async function readJwk(arg: string, flag: string): Promise<{ publicJwk: PublicJwk; privateJwk?: PrivateJwk }> {
    let text = arg;
    if (!arg.trimStart().startsWith('{')) {
      try {
        text = await fs.readFile(arg, 'utf8');
      } catch (err) {
        h.fail(`${flag} ${arg}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
      }
    }
    let jwk: unknown;
    try {
      jwk = JSON.parse(text);
    } catch {
      h.fail(`${flag}: not a JWK (not JSON)`);
    }
    try {
      if (jwk && typeof jwk === 'object' && 'd' in jwk) {
        const privateJwk = await parsePrivateJwk(jwk);
        return { publicJwk: publicPart(privateJwk), privateJwk };
      }
      return { publicJwk: await parsePublicJwk(jwk, flag) };
    } catch (err) {
      if (err instanceof JwkError) h.fail(`${flag}: ${err.message}`);
      throw err;
    }
  }

  // ---- members -------------------------------------------------------------------------------

  const members = program.command('members').description('the members of the coalition: list, show, create, suspend, reinstate (ADMIN to change)');
  api(members.command('list').description('the member directory: id, kind, suspended, name')).action(async (opts: Opts) => {
    const data = await gql<{ members: Obj[] }>(opts, `{ members { ${MEMBER} } }`);
    print(opts, data, () => table(data.members, ['id', 'kind', 'suspended', 'name']));
  });
  api(members.command('show').description('one member, with its principals and keys when you may see them').argument('<id>', 'member id')).action(
    async (id: string, opts: Opts) => {
      const data = await gql<{ member: Obj | null }>(opts, `query($id: ID!) { member(id: $id) { ${MEMBER} principals { id name roles disabled keys { kid status } } } }`, { id });
      if (!data.member) h.fail(`no member ${id}`);
      print(opts, data, () => fields(data.member!));
    },
  );
  api(
    members
      .command('create')
      .description('create a member (ADMIN); then `cordon principals create` gives it a principal')
      .requiredOption('--name <name>', 'the organisation’s name (unique)')
      .requiredOption('--kind <kind>', `${MEMBER_KINDS.join(', ')}`, oneOf(MEMBER_KINDS)),
  ).action(async (opts: Opts & { name: string; kind: string }) => {
    const data = await gql<{ createMember: Obj }>(opts, `mutation($input: CreateMemberInput!) { createMember(input: $input) { ${MEMBER} } }`, {
      input: { name: opts.name, kind: opts.kind },
    });
    print(opts, data, () => fields(data.createMember));
  });
  api(
    members
      .command('suspend')
      .description('suspend a member (ADMIN): every one of its principals is refused until reinstated')
      .argument('<id>', 'member id')
      .requiredOption('--reason <text>', 'why (shown to the member and coordinator admins)'),
  ).action(async (id: string, opts: Opts & { reason: string }) => {
    const data = await gql<{ suspendMember: Obj }>(opts, `mutation($id: ID!, $reason: String!) { suspendMember(id: $id, reason: $reason) { ${MEMBER} } }`, { id, reason: opts.reason });
    print(opts, data, () => fields(data.suspendMember));
  });
  api(
    members
      .command('reinstate')
      .description('reinstate a suspended member (ADMIN)')
      .argument('<id>', 'member id')
      .option('--note <text>', 'a note for the audit log'),
  ).action(async (id: string, opts: Opts & { note?: string }) => {
    const data = await gql<{ reinstateMember: Obj }>(opts, `mutation($id: ID!, $note: String) { reinstateMember(id: $id, note: $note) { ${MEMBER} } }`, { id, note: opts.note });
    print(opts, data, () => fields(data.reinstateMember));
  });

  // ---- principals ----------------------------------------------------------------------------

  const principals = program.command('principals').description('the API clients and people of a member: list, show, create, disable, enable, roles (ADMIN to change)');
  api(
    principals
      .command('list')
      .description('the principals of a member (default: your own), with their keys')
      .option('--member <id>', 'another member (coordinator ADMIN or AUDITOR)'),
  ).action(async (opts: Opts & { member?: string }) => {
    const member = opts.member
      ? (await gql<{ member: { principals: Obj[] | null } | null }>(opts, `query($id: ID!) { member(id: $id) { id name principals { ${PRINCIPAL} } } }`, { id: opts.member })).member
      : (await gql<{ me: { member: { principals: Obj[] | null } } }>(opts, `{ me { member { id name principals { ${PRINCIPAL} } } } }`)).me.member;
    if (!member) h.fail(`no member ${opts.member}`);
    if (!member.principals) h.fail(`you may not see the principals of member ${opts.member}`);
    print(opts, { member }, () => table(member.principals!, ['id', 'name', 'roles', 'disabled', 'keys']));
  });
  api(principals.command('show').description('one principal with its keys').argument('<id>', 'principal id')).action(async (id: string, opts: Opts) => {
    const data = await gql<{ principal: Obj | null }>(opts, `query($id: ID!) { principal(id: $id) { ${PRINCIPAL} } }`, { id });
    if (!data.principal) h.fail(`no principal ${id} that you may see`);
    print(opts, data, () => fields(data.principal!));
  });
  api(
    principals
      .command('create')
      .description('create a principal of a member with its first public key (ADMIN); CURATOR and ADMIN only in COORDINATOR members')
      .requiredOption('--member <id>', 'its member')
      .requiredOption('--name <name>', 'e.g. screening-service, or a person’s name')
      .requiredOption('--role <role>', `${ROLES.join(', ')} (repeat, or comma-separated)`, roles)
      .requiredOption('--jwk <file|json>', 'its public JWK (as `cordon keygen` or `cordon jwk` prints it), inline or in a file; a private key file gives only its public part'),
  ).action(async (opts: Opts & { member: string; name: string; role: string[]; jwk: string }) => {
    const { publicJwk } = await readJwk(opts.jwk, '--jwk');
    const data = await gql<{ createPrincipal: Obj }>(opts, `mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { ${PRINCIPAL} } }`, {
      input: { memberId: opts.member, name: opts.name, roles: opts.role, publicJwk },
    });
    print(opts, data, () => fields(data.createPrincipal));
  });
  api(
    principals
      .command('disable')
      .description('refuse a principal whatever its keys, until enabled (ADMIN)')
      .argument('<id>', 'principal id')
      .requiredOption('--reason <text>', 'why'),
  ).action(async (id: string, opts: Opts & { reason: string }) => {
    const data = await gql<{ disablePrincipal: Obj }>(opts, `mutation($id: ID!, $reason: String!) { disablePrincipal(id: $id, reason: $reason) { ${PRINCIPAL} } }`, { id, reason: opts.reason });
    print(opts, data, () => fields(data.disablePrincipal));
  });
  api(principals.command('enable').description('enable a disabled principal (ADMIN)').argument('<id>', 'principal id')).action(async (id: string, opts: Opts) => {
    const data = await gql<{ enablePrincipal: Obj }>(opts, `mutation($id: ID!) { enablePrincipal(id: $id) { ${PRINCIPAL} } }`, { id });
    print(opts, data, () => fields(data.enablePrincipal));
  });
  api(
    principals
      .command('roles')
      .description('replace a principal’s roles (ADMIN)')
      .argument('<id>', 'principal id')
      .requiredOption('--role <role>', `${ROLES.join(', ')} (repeat, or comma-separated): the new roles, all of them`, roles),
  ).action(async (id: string, opts: Opts & { role: string[] }) => {
    const data = await gql<{ setPrincipalRoles: Obj }>(opts, `mutation($id: ID!, $roles: [Role!]!) { setPrincipalRoles(id: $id, roles: $roles) { ${PRINCIPAL} } }`, { id, roles: opts.role });
    print(opts, data, () => fields(data.setPrincipalRoles));
  });

  // ---- keys ----------------------------------------------------------------------------------

  const keys = program.command('keys').description('a principal’s public keys: list, add, revoke, rotate (ADMIN for anyone; any principal for its own)');
  api(keys.command('list').description('the keys of a principal (default: yours)').option('--principal <id>', 'another principal')).action(
    async (opts: Opts & { principal?: string }) => {
      const principal = opts.principal
        ? (await gql<{ principal: { keys: Obj[] } | null }>(opts, `query($id: ID!) { principal(id: $id) { id name keys { ${KEY} } } }`, { id: opts.principal })).principal
        : (await gql<{ me: { keys: Obj[] } }>(opts, `{ me { id name keys { ${KEY} } } }`)).me;
      if (!principal) h.fail(`no principal ${opts.principal} that you may see`);
      print(opts, { principal }, () => table(principal.keys, ['kid', 'alg', 'status', 'createdAt', 'lastUsedAt', 'revokedReason']));
    },
  );
  api(
    keys
      .command('add')
      .description('add a public key to a principal')
      .argument('<principalId>', 'the principal')
      .requiredOption('--jwk <file|json>', 'the public JWK (inline or a file); a private key file made by `cordon keygen` gives only its public part'),
  ).action(async (principalId: string, opts: Opts & { jwk: string }) => {
    const { publicJwk } = await readJwk(opts.jwk, '--jwk');
    const data = await gql<{ addPrincipalKey: Obj }>(opts, `mutation($principalId: ID!, $publicJwk: JSON!) { addPrincipalKey(principalId: $principalId, publicJwk: $publicJwk) { ${KEY} } }`, {
      principalId,
      publicJwk,
    });
    print(opts, data, () => fields(data.addPrincipalKey));
  });
  api(
    keys
      .command('revoke')
      .description('revoke a key (never a principal’s last active one)')
      .argument('<kid>', 'the key id (RFC 7638 thumbprint; one that starts with "-" is taken as it is)')
      .requiredOption('--reason <text>', 'why, e.g. rotated, lost, compromised')
      // A thumbprint is base64url and one in 64 starts with "-": without this it would be refused as an unknown option.
      .allowUnknownOption(),
  ).action(async (kid: string, opts: Opts & { reason: string }) => {
    if (!/^[A-Za-z0-9_-]{43}$/.test(kid)) h.fail(kid.startsWith('--') ? `unknown option '${kid}'` : `<kid>: ${JSON.stringify(kid)} is not a key id (43 base64url characters, as \`cordon keys list\` shows)`);
    const data = await gql<{ revokePrincipalKey: Obj }>(opts, `mutation($kid: ID!, $reason: String!) { revokePrincipalKey(kid: $kid, reason: $reason) { ${KEY} } }`, { kid, reason: opts.reason });
    print(opts, data, () => fields(data.revokePrincipalKey));
  });
  api(
    keys
      .command('rotate')
      .description(
        'replace a key: first add the new key, then (a private key file: once it signs in as the same principal) revoke the old kid — in that order, so the principal never has zero keys. ' +
          'Your own key by default: --key is the old key and its kid is revoked; for another principal pass --principal and --old-kid',
      )
      .requiredOption('--new-key <file|json>', 'the new key: a private key file made by `cordon keygen` (only its public part is sent), or a public JWK')
      .option('--principal <id>', 'whose key (default: the principal of --key)')
      .option('--old-kid <kid>', 'the key to revoke (default: the kid of --key)')
      .option('--reason <text>', 'the revocation reason', 'rotated'),
  ).action(async (opts: Opts & { newKey: string; principal?: string; oldKid?: string; reason: string }) => {
    const { publicJwk: newJwk, privateJwk: newPrivate } = await readJwk(opts.newKey, '--new-key');
    const ownKid = publicPart(await h.readKey(opts.key)).kid;
    const me = (await gql<{ me: { id: string } }>(opts, '{ me { id } }')).me;
    const principalId = opts.principal ?? me.id;
    if (principalId !== me.id && !opts.oldKid) h.fail('--old-kid: name the key to revoke when rotating another principal’s key');
    const oldKid = opts.oldKid ?? ownKid;
    if (oldKid === newJwk.kid) h.fail('--new-key: that is the key being replaced; make a new one with `cordon keygen`');
    // 1. The new key first: should anything below fail, the principal still has both keys.
    const added = await gql<{ addPrincipalKey: Obj }>(opts, `mutation($principalId: ID!, $publicJwk: JSON!) { addPrincipalKey(principalId: $principalId, publicJwk: $publicJwk) { ${KEY} } }`, {
      principalId,
      publicJwk: newJwk,
    });
    process.stderr.write(`added key ${newJwk.kid} to principal ${principalId}; revoking ${oldKid}\n`);
    // 2. With the private key at hand: it signs in as that principal before the old one goes.
    if (newPrivate && !opts.newKey.trimStart().startsWith('{')) {
      const who = (await gql<{ me: { id: string } }>({ ...opts, key: opts.newKey }, '{ me { id } }')).me;
      if (who.id !== principalId) h.fail(`the new key signs in as ${who.id}, not ${principalId}; ${oldKid} left active`);
    }
    // 3. Then the old one, signed with --key (still active until this very call).
    const revoked = await gql<{ revokePrincipalKey: Obj }>(opts, `mutation($kid: ID!, $reason: String!) { revokePrincipalKey(kid: $kid, reason: $reason) { ${KEY} } }`, {
      kid: oldKid,
      reason: opts.reason,
    });
    const data = { principalId, added: added.addPrincipalKey, revoked: revoked.revokePrincipalKey };
    print(opts, data, () => fields(data));
  });

  // ---- review --------------------------------------------------------------------------------

  type Decision = { line?: number; id: string; decision: string; note?: string; expectedStatus?: string; expectedVersion?: number };
  type Outcome = { line?: number; id: string; ok: boolean; code: string | null; error: string | null; indicator: Obj | null };

  /** Decisions through reviewIndicators (each item its own transaction), in batches; one outcome each; exit 3 if any was refused. */
  async function decide(opts: Opts, items: Decision[], refused: Outcome[] = []): Promise<void> {
    const outcomes: Outcome[] = [...refused];
    const mutation = `mutation($items: [ReviewItemInput!]!) { reviewIndicators(items: $items) { id ok code error indicator { ${INDICATOR} } } }`;
    for (let i = 0; i < items.length; i += REVIEW_BATCH) {
      const batch = items.slice(i, i + REVIEW_BATCH);
      const data = await gql<{ reviewIndicators: Outcome[] }>(opts, mutation, { items: batch.map(({ line: _line, ...item }) => item) });
      data.reviewIndicators.forEach((o, j) => outcomes.push(batch[j].line === undefined ? o : { line: batch[j].line, ...o }));
    }
    if (outcomes.some((o) => o.line !== undefined)) outcomes.sort((a, b) => a.line! - b.line!);
    const columns = [...(outcomes.some((o) => o.line !== undefined) ? ['line'] : []), 'id', 'result', 'error'];
    const rows = outcomes.map((o) => ({ ...o, result: o.ok ? o.indicator?.status : o.code, error: o.error }));
    print(opts, outcomes, () => table(rows, columns));
    const failed = outcomes.filter((o) => !o.ok);
    const counts = new Map<string, number>();
    for (const o of failed) counts.set(o.code ?? 'ERROR', (counts.get(o.code ?? 'ERROR') ?? 0) + 1);
    const byCode = [...counts].map(([code, n]) => `${code} ${n}`);
    process.stderr.write(`done: ${outcomes.length - failed.length} applied, ${failed.length} refused${byCode.length ? ` (${byCode.join(', ')})` : ''}\n`);
    process.exitCode = failed.length > 0 ? 3 : 0;
  }

  const review = program
    .command('review')
    .description('curators: the review queue, and APPROVE (PENDING → ACTIVE) or REJECT (PENDING → REJECTED) with a note the submitter reads; exit 3 when any decision was refused');
  api(
    review
      .command('queue')
      .description('indicators with a PENDING statement, the longest waiting first')
      .option('--first <n>', 'at most this many (default 50)', positiveInt)
      .option('--after <cursor>', 'the page after this cursor (printed as `more: …`)'),
  ).action(async (opts: Opts & { first?: number; after?: string }) => {
    const data = await gql<{ reviewQueue: { edges: { node: Obj }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
      opts,
      `query($first: Int, $after: String) { reviewQueue(first: $first, after: $after) {
        edges { cursor node { ${INDICATOR} createdAt statements { id status category confidence tlp issuer { id name member { id name } } } } }
        pageInfo { hasNextPage endCursor } } }`,
      { first: opts.first, after: opts.after },
    );
    print(opts, data, () => table(data.reviewQueue.edges.map((e) => e.node), ['id', 'kind', 'network', 'value', 'category', 'confidence', 'attestationCount', 'createdAt']));
    morePages(data.reviewQueue.pageInfo, opts);
  });
  const decisionCommand = (name: string, description: string) =>
    api(
      review
        .command(name)
        .description(description)
        .argument('<indicatorId...>', 'one or more indicator ids')
        .option('--expected-status <status>', 'refuse (CONFLICT) unless the indicator still has this status', oneOf(INDICATOR_STATUSES)),
    );
  decisionCommand('approve', 'approve indicators (PENDING → ACTIVE)')
    .option('--note <text>', 'a note the submitters read')
    .action(async (ids: string[], opts: Opts & { note?: string; expectedStatus?: string }) => {
      await decide(opts, ids.map((id) => ({ id, decision: 'APPROVE', note: opts.note, expectedStatus: opts.expectedStatus })));
    });
  decisionCommand('reject', 'reject indicators (PENDING → REJECTED)')
    .requiredOption('--note <text>', 'why: the submitters read it')
    .action(async (ids: string[], opts: Opts & { note: string; expectedStatus?: string }) => {
      await decide(opts, ids.map((id) => ({ id, decision: 'REJECT', note: opts.note, expectedStatus: opts.expectedStatus })));
    });
  api(
    review
      .command('bulk')
      .description('decisions from a CSV with a header: id, decision (APPROVE or REJECT), note, and optionally expected_status, expected_version; one outcome per row; a bad row is refused on its own and the rest applied')
      .requiredOption('--in <file>', 'the decisions CSV'),
  ).action(async (opts: Opts & { in: string }) => {
    let records: { record: Record<string, string>; info: { lines: number } }[];
    try {
      records = parseCsv(await fs.readFile(opts.in), { columns: true, info: true, bom: true, skip_empty_lines: true, trim: true });
    } catch (err) {
      h.fail(`--in ${opts.in}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    const known = ['id', 'decision', 'note', 'expected_status', 'expected_version'];
    const header = Object.keys(records[0]?.record ?? {});
    const unknown = header.filter((c) => !known.includes(c));
    if (unknown.length) h.fail(`--in ${opts.in}: unknown column ${unknown.join(', ')} (columns: ${known.join(', ')})`);
    if (records.length > 0 && (!header.includes('id') || !header.includes('decision'))) h.fail(`--in ${opts.in}: needs a header row with the columns id and decision`);
    const items: Decision[] = [];
    const refused: Outcome[] = [];
    for (const { record, info } of records) {
      const line = info.lines;
      const bad = (error: string) => refused.push({ line, id: record.id ?? '', ok: false, code: 'BAD_USER_INPUT', error, indicator: null });
      const decision = (record.decision ?? '').toUpperCase();
      const expectedStatus = record.expected_status ? record.expected_status.toUpperCase() : undefined;
      const version = record.expected_version;
      if (!record.id) bad('id: missing');
      else if (decision !== 'APPROVE' && decision !== 'REJECT') bad(`decision: must be APPROVE or REJECT, not "${record.decision ?? ''}"`);
      else if (expectedStatus && !INDICATOR_STATUSES.includes(expectedStatus)) bad(`expected_status: must be one of ${INDICATOR_STATUSES.join(', ')}`);
      else if (version && !/^\d+$/.test(version)) bad('expected_version: must be a whole number');
      else items.push({ line, id: record.id, decision, ...(record.note ? { note: record.note } : {}), ...(expectedStatus ? { expectedStatus } : {}), ...(version ? { expectedVersion: Number(version) } : {}) });
    }
    await decide(opts, items, refused);
  });

  // ---- disputes ------------------------------------------------------------------------------

  const disputes = program.command('disputes').description('a member’s objections to indicators: list, show, open; curators resolve them');
  api(
    disputes
      .command('list')
      .description('disputes, oldest first: all for curators, otherwise your own member’s')
      .option('--status <status>', DISPUTE_STATUSES.join(', '), oneOf(DISPUTE_STATUSES))
      .option('--indicator <id>', 'only disputes on this indicator')
      .option('--first <n>', 'at most this many (default 50)', positiveInt)
      .option('--after <cursor>', 'the page after this cursor'),
  ).action(async (opts: Opts & { status?: string; indicator?: string; first?: number; after?: string }) => {
    const data = await gql<{ disputes: { edges: { node: Obj }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
      opts,
      `query($status: String, $indicatorId: ID, $first: Int, $after: String) {
        disputes(status: $status, indicatorId: $indicatorId, first: $first, after: $after) { edges { cursor node { ${DISPUTE} } } pageInfo { hasNextPage endCursor } } }`,
      { status: opts.status, indicatorId: opts.indicator, first: opts.first, after: opts.after },
    );
    print(opts, data, () => table(data.disputes.edges.map((e) => e.node), ['id', 'status', 'indicator.id', 'member.name', 'createdAt', 'reason']));
    morePages(data.disputes.pageInfo, opts);
  });
  api(disputes.command('show').description('one dispute').argument('<id>', 'dispute id')).action(async (id: string, opts: Opts) => {
    const data = await gql<{ dispute: Obj | null }>(opts, `query($id: ID!) { dispute(id: $id) { ${DISPUTE} } }`, { id });
    if (!data.dispute) h.fail(`no dispute ${id} that you may see`);
    print(opts, data, () => fields(data.dispute!));
  });
  api(
    disputes
      .command('open')
      .description('dispute an indicator your member can see: it becomes DISPUTED (and still matches) until a curator decides')
      .argument('<indicatorId>', 'the indicator')
      .requiredOption('--reason <text>', 'why your member disputes it'),
  ).action(async (indicatorId: string, opts: Opts & { reason: string }) => {
    const data = await gql<{ disputeIndicator: Obj }>(opts, `mutation($id: ID!, $reason: String!) { disputeIndicator(id: $id, reason: $reason) { ${DISPUTE} } }`, {
      id: indicatorId,
      reason: opts.reason,
    });
    print(opts, data, () => fields(data.disputeIndicator));
  });
  api(
    disputes
      .command('resolve')
      .description('curators: decide an OPEN dispute. upheld: the indicator is REVOKED; not upheld: its status before the dispute returns')
      .argument('<disputeId>', 'the dispute')
      .requiredOption('--upheld <true|false>', 'was the disputing member right?', bool)
      .option('--note <text>', 'the decision’s note, told to the disputing member'),
  ).action(async (id: string, opts: Opts & { upheld: boolean; note?: string }) => {
    const data = await gql<{ resolveDispute: Obj }>(opts, `mutation($id: ID!, $upheld: Boolean!, $note: String) { resolveDispute(id: $id, upheld: $upheld, note: $note) { ${DISPUTE} } }`, {
      id,
      upheld: opts.upheld,
      note: opts.note,
    });
    print(opts, data, () => fields(data.resolveDispute));
  });

  // ---- exclusions ----------------------------------------------------------------------------

  const exclusions = program.command('exclusions').description('curators: known-benign values; statements about them are refused EXCLUDED');
  api(exclusions.command('list').description('the exclusion list, oldest first').option('--include-removed', 'removed entries too')).action(
    async (opts: Opts & { includeRemoved?: boolean }) => {
      const data = await gql<{ exclusions: Obj[] }>(opts, `query($includeRemoved: Boolean) { exclusions(includeRemoved: $includeRemoved) { ${EXCLUSION} } }`, {
        includeRemoved: opts.includeRemoved ?? false,
      });
      print(opts, data, () => table(data.exclusions, ['id', 'kind', 'network', 'value', 'removedAt', 'reason']));
    },
  );
  api(
    exclusions
      .command('add')
      .description('put a value on the exclusion list; an existing indicator for it is left as it is (named, with a warning while it still matches) unless --revoke-matching')
      .requiredOption('--kind <kind>', INDICATOR_KINDS.join(', '), oneOf(INDICATOR_KINDS))
      .option('--network <network>', 'wallet network (detected when omitted)')
      .requiredOption('--value <value>', 'the value (a merchant id as ACQUIRER:MID)')
      .requiredOption('--reason <text>', 'why it is benign: statements about it are refused with this reason')
      .option('--revoke-matching', 'also revoke the indicator listed for this value (ACTIVE, DISPUTED or PENDING) in the same transaction, with this reason'),
  ).action(async (opts: Opts & { kind: string; network?: string; value: string; reason: string; revokeMatching?: boolean }) => {
    const data = await gql<{ addExclusion: Obj }>(
      opts,
      `mutation($input: ExclusionInput!) { addExclusion(input: $input) { ${EXCLUSION} existingIndicator { id status } revokedIndicator { id status } warning } }`,
      { input: { kind: opts.kind, network: opts.network, value: opts.value, reason: opts.reason, revokeMatching: opts.revokeMatching ?? false } },
    );
    const { warning, revokedIndicator, ...rest } = data.addExclusion;
    print(opts, data, () => fields({ ...rest, ...(revokedIndicator ? { revokedIndicator } : {}), ...(warning ? { warning } : {}) }));
    if (warning && !opts.json) process.stderr.write(`warning: ${String(warning)}\n`);
  });
  api(exclusions.command('remove').description('take an exclusion out of force (kept on record)').argument('<id>', 'exclusion id')).action(async (id: string, opts: Opts) => {
    const data = await gql<{ removeExclusion: Obj }>(opts, `mutation($id: ID!) { removeExclusion(id: $id) { ${EXCLUSION} } }`, { id });
    print(opts, data, () => fields(data.removeExclusion));
  });

  // ---- sightings -----------------------------------------------------------------------------

  const sightings = program.command('sightings').description('what your member saw or did about an indicator');
  api(
    sightings
      .command('report')
      .description('report a sighting; ACTIONED: you are notified if the indicator is later revoked')
      .argument('<indicatorId>', 'the indicator')
      .requiredOption('--kind <kind>', SIGHTING_KINDS.join(', '), oneOf(SIGHTING_KINDS))
      .option('--note <text>', 'a note'),
  ).action(async (indicatorId: string, opts: Opts & { kind: string; note?: string }) => {
    const data = await gql<{ reportSighting: Obj }>(
      opts,
      `mutation($indicatorId: ID!, $kind: SightingKind!, $note: String) { reportSighting(indicatorId: $indicatorId, kind: $kind, note: $note) {
        id kind note createdAt member { id name } indicator { id status sightings { seen falsePositive actioned } } } }`,
      { indicatorId, kind: opts.kind, note: opts.note },
    );
    print(opts, data, () => fields(data.reportSighting));
  });

  // ---- indicators ----------------------------------------------------------------------------

  const indicators = program.command('indicators').description('one indicator as you see it; curators revoke or expire it');
  api(indicators.command('show').description('an indicator: status, confidence, category, its statements, sightings and the sighting reports you may read').argument('<id>', 'indicator id')).action(
    async (id: string, opts: Opts) => {
      const data = await gql<{ indicator: Obj | null }>(
        opts,
        `query($id: ID!) { indicator(id: $id) { ${INDICATOR} fingerprint firstSeenAt lastSeenAt supportedUntil
          statements { id status category confidence tlp receivedAt issuer { id name member { id name } } }
          sightings { seen falsePositive actioned }
          sightingReports { kind reportCount note createdAt member { id name } } } }`,
        { id },
      );
      if (!data.indicator) h.fail(`no indicator ${id} that you may see`);
      const { statements, sightingReports, ...rest } = data.indicator as Obj & { statements: Obj[]; sightingReports: Obj[] };
      const reports = sightingReports.map((r) => ({ member: (r.member as Obj).name, kind: r.kind, reportCount: r.reportCount, createdAt: r.createdAt, note: r.note }));
      print(opts, data, () => fields({ ...rest, statements: statements.length }) + (reports.length ? 'sightingReports:\n' + table(reports, Object.keys(reports[0])).replace(/^/gm, '  ') : 'sightingReports: -\n'));
    },
  );
  const curation = (name: string, description: string) =>
    api(
      indicators
        .command(name)
        .description(description)
        .argument('<id>', 'indicator id')
        .option('--expected-status <status>', 'refuse (CONFLICT) unless the indicator still has this status', oneOf(INDICATOR_STATUSES))
        .option('--expected-version <n>', 'refuse (CONFLICT) unless the indicator is still at this version', (v: string) => (v === '0' ? 0 : positiveInt(v))),
    );
  curation('revoke', 'curators: revoke an indicator (kept on record); members that reported it ACTIONED are notified')
    .requiredOption('--reason <text>', 'why: the statements’ members read it')
    .action(async (id: string, opts: Opts & { reason: string; expectedStatus?: string; expectedVersion?: number }) => {
      const data = await gql<{ revokeIndicator: Obj }>(
        opts,
        `mutation($id: ID!, $reason: String!, $expectedStatus: IndicatorStatus, $expectedVersion: Int) {
          revokeIndicator(id: $id, reason: $reason, expectedStatus: $expectedStatus, expectedVersion: $expectedVersion) { ${INDICATOR} } }`,
        { id, reason: opts.reason, expectedStatus: opts.expectedStatus, expectedVersion: opts.expectedVersion },
      );
      print(opts, data, () => fields(data.revokeIndicator));
    });
  curation('expire', 'curators: expire an indicator (no longer current; kept on record)').action(
    async (id: string, opts: Opts & { expectedStatus?: string; expectedVersion?: number }) => {
      const data = await gql<{ expireIndicator: Obj }>(
        opts,
        `mutation($id: ID!, $expectedStatus: IndicatorStatus, $expectedVersion: Int) {
          expireIndicator(id: $id, expectedStatus: $expectedStatus, expectedVersion: $expectedVersion) { ${INDICATOR} } }`,
        { id, expectedStatus: opts.expectedStatus, expectedVersion: opts.expectedVersion },
      );
      print(opts, data, () => fields(data.expireIndicator));
    },
  );

  // ---- categories ----------------------------------------------------------------------------

  const categories = program.command('categories').description('the category vocabulary: a statement’s category must be one in force (curators add and retire)');
  api(categories.command('list').description('the categories in force, by name').option('--include-retired', 'retired ones too')).action(
    async (opts: Opts & { includeRetired?: boolean }) => {
      const data = await gql<{ categories: Obj[] }>(opts, `query($includeRetired: Boolean) { categories(includeRetired: $includeRetired) { ${CATEGORY} } }`, {
        includeRetired: opts.includeRetired ?? false,
      });
      print(opts, data, () => table(data.categories, ['name', 'retiredAt', 'description']));
    },
  );
  api(
    categories
      .command('add')
      .description('curators: add a category (or put a retired one back in force); audited')
      .requiredOption('--name <name>', 'upper-case identifier: A-Z, 0-9, _ (at most 64)')
      .requiredOption('--description <text>', 'what it means, for the members choosing it'),
  ).action(async (opts: Opts & { name: string; description: string }) => {
    const data = await gql<{ addCategory: Obj }>(opts, `mutation($input: CategoryInput!) { addCategory(input: $input) { ${CATEGORY} } }`, {
      input: { name: opts.name, description: opts.description },
    });
    print(opts, data, () => fields(data.addCategory));
  });
  api(
    categories
      .command('retire')
      .description('curators: retire a category: new statements with it are refused, stored ones keep it; audited')
      .argument('<name>', 'the category')
      .requiredOption('--reason <text>', 'why'),
  ).action(async (name: string, opts: Opts & { reason: string }) => {
    const data = await gql<{ retireCategory: Obj }>(opts, `mutation($name: String!, $reason: String!) { retireCategory(name: $name, reason: $reason) { ${CATEGORY} } }`, {
      name,
      reason: opts.reason,
    });
    print(opts, data, () => fields(data.retireCategory));
  });

  // ---- notifications -------------------------------------------------------------------------

  const notifications = program.command('notifications').description('what your member should know (a revoked indicator you acted on, a decided dispute, a disabled webhook)');
  api(
    notifications
      .command('list')
      .description('your member’s notifications, newest first')
      .option('--unread', 'only those not yet acknowledged')
      .option('--first <n>', 'at most this many (default 100, at most 500)', positiveInt),
  ).action(async (opts: Opts & { unread?: boolean; first?: number }) => {
    const data = await gql<{ notifications: Obj[] }>(opts, `query($unreadOnly: Boolean, $first: Int) { notifications(unreadOnly: $unreadOnly, first: $first) { ${NOTIFICATION} } }`, {
      unreadOnly: opts.unread ?? false,
      first: opts.first,
    });
    print(opts, data, () => table(data.notifications, ['id', 'kind', 'createdAt', 'readAt', 'indicator.id', 'message']));
  });
  api(notifications.command('ack').description('mark a notification read').argument('<id>', 'notification id')).action(async (id: string, opts: Opts) => {
    const data = await gql<{ acknowledgeNotification: Obj }>(opts, `mutation($id: ID!) { acknowledgeNotification(id: $id) { ${NOTIFICATION} } }`, { id });
    print(opts, data, () => fields(data.acknowledgeNotification));
  });

  // ---- webhooks ------------------------------------------------------------------------------

  const webhooks = program
    .command('webhooks')
    .description('HTTPS endpoints that receive a member’s notifications and change feed, signed by the exchange key (ADMIN registers, disables, enables; a principal reads its own)');
  api(webhooks.command('list').description('webhooks: an ADMIN every one (or one member’s), any other principal its own').option('--member <id>', 'only this member’s (ADMIN)')).action(
    async (opts: Opts & { member?: string }) => {
      const data = await gql<{ webhooks: Obj[] }>(opts, `query($memberId: ID) { webhooks(memberId: $memberId) { ${WEBHOOK} } }`, { memberId: opts.member });
      print(opts, data, () => table(data.webhooks, ['id', 'memberId', 'principalId', 'events', 'disabledAt', 'pending', 'consecutiveFailures', 'url']));
    },
  );
  api(webhooks.command('show').description('one webhook: in service or disabled (and why), pending deliveries, failures').argument('<id>', 'webhook id')).action(async (id: string, opts: Opts) => {
    const data = await gql<{ webhook: Obj }>(opts, `query($id: ID!) { webhook(id: $id) { ${WEBHOOK} } }`, { id });
    print(opts, data, () => fields(data.webhook));
  });
  api(
    webhooks
      .command('register')
      .description('ADMIN: register an endpoint for a member’s principal: it receives that member’s notifications and the change feed as the principal sees it; audited (the URL kept out of the log)')
      .requiredOption('--principal <id>', 'the member’s principal whose view the deliveries carry (a read-only SCREENER principal is a good choice)')
      .requiredOption('--endpoint <https-url>', 'the receiver’s https:// URL (no user name, password or fragment); --url stays the service’s', endpoint)
      .option('--event <event>', `${WEBHOOK_EVENTS.join(', ')} (repeat, or comma-separated; default: every kind)`, events)
      .option('--description <text>', 'a note, e.g. who runs the receiver'),
  ).action(async (opts: Opts & { principal: string; endpoint: string; event?: string[]; description?: string }) => {
    const data = await gql<{ registerWebhook: Obj }>(opts, `mutation($input: WebhookInput!) { registerWebhook(input: $input) { ${WEBHOOK} } }`, {
      input: { principalId: opts.principal, url: opts.endpoint, description: opts.description, ...(opts.event ? { events: [...new Set(opts.event)] } : {}) },
    });
    print(opts, data, () => fields(data.registerWebhook));
  });
  api(
    webhooks
      .command('disable')
      .description('ADMIN: take a webhook out of service; its queue is kept; audited')
      .argument('<id>', 'webhook id')
      .requiredOption('--reason <text>', 'why'),
  ).action(async (id: string, opts: Opts & { reason: string }) => {
    const data = await gql<{ disableWebhook: Obj }>(opts, `mutation($id: ID!, $reason: String!) { disableWebhook(id: $id, reason: $reason) { ${WEBHOOK} } }`, { id, reason: opts.reason });
    print(opts, data, () => fields(data.disableWebhook));
  });
  api(webhooks.command('enable').description('ADMIN: put a disabled webhook back in service: failures forgotten, its kept queue sent oldest first; audited').argument('<id>', 'webhook id')).action(
    async (id: string, opts: Opts) => {
      const data = await gql<{ enableWebhook: Obj }>(opts, `mutation($id: ID!) { enableWebhook(id: $id) { ${WEBHOOK} } }`, { id });
      print(opts, data, () => fields(data.enableWebhook));
    },
  );
  api(
    webhooks
      .command('deliveries')
      .description('the delivery log, newest first: one row per attempt (status, error, duration); a delivery not yet tried has one row without an attempt')
      .argument('<id>', 'webhook id')
      .option('--first <n>', 'at most this many deliveries', positiveInt)
      .option('--after <cursor>', 'the page after this cursor (printed as `more: …`)'),
  ).action(async (id: string, opts: Opts & { first?: number; after?: string }) => {
    type Delivery = Obj & { attemptLog: Obj[] };
    const data = await gql<{ webhook: { deliveries: { edges: { node: Delivery }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }>(
      opts,
      `query($id: ID!, $first: Int, $after: String) { webhook(id: $id) { id deliveries(first: $first, after: $after) {
        edges { cursor node { id type queuedAt attempts lastStatus lastError deliveredAt attemptLog { attempt at status error durationMs } } }
        pageInfo { hasNextPage endCursor } } } }`,
      { id, first: opts.first, after: opts.after },
    );
    const rows = data.webhook.deliveries.edges.flatMap(({ node: d }) => {
      const base = { delivery: d.id, type: d.type, queuedAt: d.queuedAt, deliveredAt: d.deliveredAt };
      return d.attemptLog.length ? d.attemptLog.map((a) => ({ ...base, ...a })) : [{ ...base, attempt: null, at: null, status: null, durationMs: null, error: null }];
    });
    print(opts, data, () => table(rows, ['delivery', 'type', 'queuedAt', 'deliveredAt', 'attempt', 'at', 'status', 'durationMs', 'error']));
    morePages(data.webhook.deliveries.pageInfo, opts);
  });

  // ---- audit events --------------------------------------------------------------------------

  api(
    audit
      .command('events')
      .description('the audit log in index order (AUDITOR: a coordinator’s every event, others their own member’s)')
      .option('--first <n>', 'at most this many (default 50)', positiveInt)
      .option('--after <cursor>', 'the page after this cursor (printed as `more: …`)')
      .option('--action <action>', 'only this action, e.g. member.create, review, screen')
      .option('--actor-member <id>', 'only events by this member')
      .option('--actor-principal <id>', 'only events by this principal')
      .option('--since <time>', 'events at or after this time', time)
      .option('--until <time>', 'events before this time', time),
  ).action(async (opts: Opts & { first?: number; after?: string; action?: string; actorMember?: string; actorPrincipal?: string; since?: string; until?: string }) => {
    const filter = { action: opts.action, actorMemberId: opts.actorMember, actorPrincipalId: opts.actorPrincipal, since: opts.since, until: opts.until };
    const data = await gql<{ auditEvents: { edges: { node: Obj }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(
      opts,
      `query($first: Int, $after: String, $filter: AuditEventFilter) { auditEvents(first: $first, after: $after, filter: $filter) {
        edges { cursor node { index at action actorMemberId actorPrincipalId subjectId subjectMemberId leafHash canonical } } pageInfo { hasNextPage endCursor } } }`,
      { first: opts.first, after: opts.after, filter },
    );
    print(opts, data, () => table(data.auditEvents.edges.map((e) => e.node), ['index', 'at', 'action', 'actorPrincipalId', 'subjectId']));
    morePages(data.auditEvents.pageInfo, opts);
  });
}
