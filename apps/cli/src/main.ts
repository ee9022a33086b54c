#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse } from '@app/canonical';
import { ReceiptError, StatementRefusal, validateClaims, verifyReceipt, verifyWebhookDelivery, WebhookDeliveryError } from '@app/statements';
import { registerAdminCommands } from './admin-commands.js';
import { auditMonitor } from './audit-monitor.js';
import { auditVerify } from './audit-verify.js';
import { ResumeError } from './resumable.js';
import { BulkCallError, bulkScreen } from './bulk.js';
import { screenFile } from './screen-file.js';
import { CSV_COLUMNS, submitFile } from './submit.js';
import { type ChangePage, sync } from './sync.js';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  generateSigningKey,
  JwkError,
  newKeyEncryptionKey,
  parsePrivateJwk,
  type PrivateJwk,
  publicPart,
  type PublicJwk,
  signBearerToken,
  type SigningAlg,
  signStatement,
} from '@app/signing';

/**
 * `cordon`: the command-line tool for members and operators. Private keys stay in files on the
 * member's machine; the service only ever sees public keys and signatures.
 */
const program = new Command();
program.name('cordon').description('Cordon risk-signal exchange: keys, tokens and GraphQL calls').showHelpAfterError();

function fail(message: string): never {
  process.stderr.write(`cordon: ${message}\n`);
  process.exit(1);
}

async function readKey(file: string): Promise<PrivateJwk> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    fail(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  try {
    return await parsePrivateJwk(JSON.parse(text));
  } catch (err) {
    fail(`${file} is not a Cordon private key: ${err instanceof JwkError ? err.message : 'not JSON'}`);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

interface ApiOptions {
  key: string;
  url: string;
  audience: string;
}

const keyOption = () => new Option('--key <file>', 'private JWK file made by `cordon keygen`').env('CORDON_KEY').makeOptionMandatory();
const urlOption = () => new Option('--url <url>', 'base URL of the Cordon service').env('CORDON_URL').default('http://127.0.0.1:3000');
const audienceOption = () => new Option('--audience <aud>', 'the service audience (CORDON_AUDIENCE)').env('CORDON_AUDIENCE').default('cordon');

async function callGraphql(options: ApiOptions, query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  const key = await readKey(options.key);
  const token = await signBearerToken(key, { audience: options.audience, lifetimeSeconds: 60 });
  let response: Response;
  try {
    response = await fetch(new URL('/graphql', options.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    fail(`cannot reach ${options.url}: ${(err as Error).message}`);
  }
  const body = (await response.json().catch(() => undefined)) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } | undefined;
  if (!body) fail(`${options.url} answered HTTP ${response.status} without a GraphQL body`);
  if (body.errors?.length) {
    for (const e of body.errors) process.stderr.write(`error ${e.extensions?.code ?? ''}: ${e.message}\n`);
    process.stdout.write(JSON.stringify(body.data ?? null, null, 2) + '\n');
    process.exit(2);
  }
  return body.data;
}

program
  .command('keygen')
  .description('make a new key pair: the private JWK goes to --out (mode 0600); the public JWK and kid are printed')
  .addOption(new Option('--alg <alg>', 'signature algorithm').choices(['ES256', 'EdDSA']).default('ES256'))
  .requiredOption('--out <file>', 'where to write the private JWK')
  .option('--force', 'overwrite an existing file')
  .action(async (opts: { alg: SigningAlg; out: string; force?: boolean }) => {
    const { privateJwk, publicJwk } = await generateSigningKey(opts.alg);
    try {
      await fs.writeFile(opts.out, JSON.stringify(privateJwk, null, 2) + '\n', { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
      await fs.chmod(opts.out, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') fail(`${opts.out} exists; choose another file or pass --force`);
      fail(`cannot write ${opts.out}: ${(err as Error).message}`);
    }
    process.stderr.write(`private key written to ${opts.out} (keep it secret); kid ${publicJwk.kid}\n`);
    process.stdout.write(JSON.stringify(publicJwk) + '\n');
  });

program
  .command('jwk')
  .description('print the public JWK of a private key file (for createPrincipal or CORDON_BOOTSTRAP_ADMIN_JWK)')
  .addOption(keyOption())
  .action(async (opts: { key: string }) => {
    process.stdout.write(JSON.stringify(publicPart(await readKey(opts.key))) + '\n');
  });

program
  .command('token')
  .description('print a bearer token signed by your key (SPEC 2), for `Authorization: Bearer <token>`')
  .addOption(keyOption())
  .addOption(audienceOption())
  .addOption(new Option('--lifetime <seconds>', 'token lifetime, at most 300').argParser(positiveInt).default(120))
  .option('--sub <principalId>', 'optional subject: your principal id')
  .action(async (opts: { key: string; audience: string; lifetime: number; sub?: string }) => {
    if (opts.lifetime > 300) fail('--lifetime: the service refuses tokens that live longer than 300 seconds');
    const key = await readKey(opts.key);
    process.stdout.write((await signBearerToken(key, { audience: opts.audience, lifetimeSeconds: opts.lifetime, subject: opts.sub })) + '\n');
  });

program
  .command('me')
  .description('ask the service who your key belongs to')
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (opts: ApiOptions) => {
    const data = await callGraphql(
      opts,
      `{ me { id name roles member { id name kind suspended } keys { kid alg status createdAt lastUsedAt } } }`,
    );
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  });

program
  .command('graphql')
  .description('run any GraphQL query or mutation, signed by your key')
  .argument('<query>', 'the GraphQL document, or @file to read it from a file')
  .option('--variables <json>', 'variables as JSON, or @file', '{}')
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (query: string, opts: ApiOptions & { variables: string }) => {
    const read = async (v: string) => (v.startsWith('@') ? fs.readFile(v.slice(1), 'utf8') : v);
    let variables: Record<string, unknown>;
    try {
      variables = JSON.parse(await read(opts.variables)) as Record<string, unknown>;
    } catch {
      fail('--variables: not valid JSON');
    }
    const data = await callGraphql(opts, await read(query), variables);
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  });

/** A resumable file job; a refused resume (another input, another tool's file) is a clear error, exit 1. */
async function runResumable<T>(job: () => Promise<T>): Promise<T> {
  try {
    return await job();
  } catch (err) {
    if (err instanceof ResumeError) fail(err.message);
    throw err;
  }
}

/** The caller's own principal id (the `iss` of its statements), from `me`. */
async function ownPrincipalId(opts: ApiOptions): Promise<string> {
  return ((await callGraphql(opts, '{ me { id } }')) as { me: { id: string } }).me.id;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

program
  .command('sign')
  .description('sign one statement (SPEC 4) with your key: claims from flags and/or a JSON file; the compact JWS on stdout')
  .option('--claims <file>', 'a JSON file with the claims (indicator, category, confidence, tlp, shareWith, evidence, exp, jti); flags override')
  .option('--kind <kind>', 'indicator kind: WALLET_ADDRESS, MERCHANT_ID, DOMAIN or URL')
  .option('--network <network>', 'wallet network (bitcoin, ethereum, …)')
  .option('--value <value>', 'the indicator value')
  .option('--category <category>', 'e.g. CSAM_COMMERCIAL')
  .option('--confidence <n>', '0 to 100')
  .addOption(new Option('--tlp <tlp>', 'who may see it').choices(['CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED']))
  .option('--share-with <memberId>', 'a member id the statement is shared with (repeat for more)', collect)
  .option('--site <url>', 'a reported website in the evidence (repeat for more)', collect)
  .option('--reference <text>', 'your case reference (evidence.reference)')
  .option('--observed-at <time>', 'when it was observed, RFC 3339 (evidence.observedAt)')
  .option('--exp <time>', 'after this (RFC 3339 or epoch seconds) the statement supports nothing')
  .option('--jti <id>', 'unique per issuer (default: a new UUID)')
  .option('--iss <principalId>', 'your principal id (default: asked of the service with `me`)')
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (opts: ApiOptions & Record<string, unknown>) => {
    let claims: Record<string, unknown> = {};
    if (typeof opts.claims === 'string') {
      try {
        claims = JSON.parse(await fs.readFile(opts.claims, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        fail(`--claims ${opts.claims}: ${(err as NodeJS.ErrnoException).code ?? 'not valid JSON'}`);
      }
    }
    const indicator = { ...((claims.indicator as Record<string, unknown> | undefined) ?? {}) };
    if (opts.kind) indicator.kind = opts.kind;
    if (opts.network) indicator.network = opts.network;
    if (opts.value) indicator.value = opts.value;
    const evidence = { ...((claims.evidence as Record<string, unknown> | undefined) ?? {}) };
    if (opts.site) evidence.sites = opts.site;
    if (opts.reference) evidence.reference = opts.reference;
    if (opts.observedAt) evidence.observedAt = opts.observedAt;
    const time = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'string' ? Math.floor(Date.parse(v) / 1000) : v);
    const now = Math.floor(Date.now() / 1000);
    const full: Record<string, unknown> = {
      ...claims,
      indicator,
      ...(Object.keys(evidence).length > 0 ? { evidence } : {}),
      ...(opts.category ? { category: opts.category } : {}),
      ...(opts.confidence !== undefined ? { confidence: Number(opts.confidence) } : {}),
      ...(opts.tlp ? { tlp: opts.tlp } : {}),
      ...(opts.shareWith ? { shareWith: opts.shareWith } : {}),
      ...(opts.exp !== undefined ? { exp: time(opts.exp) } : claims.exp !== undefined ? { exp: time(claims.exp) } : {}),
      jti: (opts.jti as string | undefined) ?? (claims.jti as string | undefined) ?? randomUUID(),
      iss: (opts.iss as string | undefined) ?? (claims.iss as string | undefined),
      iat: now,
    };
    if (full.iss === undefined) {
      // Asking the service who we are anyway: ask for the category vocabulary in the same call.
      const asked = (await callGraphql(opts, '{ me { id } categories { name } }')) as { me: { id: string }; categories: { name: string }[] };
      full.iss = asked.me.id;
      const allowed = asked.categories.map((c) => c.name);
      if (typeof full.category === 'string' && !allowed.includes(full.category)) {
        fail(`BAD_CLAIMS: claims.category: ${full.category} is not a category in force; allowed: ${allowed.join(', ')}`);
      }
    }
    // The service's own claim rules, here first: a bad claim is named before anything is signed.
    try {
      validateClaims(full, now);
    } catch (err) {
      if (err instanceof StatementRefusal) fail(`${err.code}: ${err.message}`);
      throw err;
    }
    process.stdout.write((await signStatement((await readKey(opts.key)) as unknown as Parameters<typeof signStatement>[0], full)) + '\n');
  });

program
  .command('submit')
  .description('sign statements from a CSV (header row) or NDJSON file with your key and submit them in batches; one outcome per row to --out; resumable, never submits a row twice')
  .requiredOption('--in <file>', `statements: CSV with a header (${CSV_COLUMNS.join(', ')}; sites and share_with separated by | or spaces) or NDJSON claims`)
  .requiredOption('--out <file>', 'outcomes CSV (line, jti, ok, code, error, indicator_id, statement_id, receipt); an interrupted run resumes; the signed statements are kept beside it in <out>.jws')
  .option('--category <category>', 'category of rows that give none')
  .option('--confidence <n>', 'confidence of rows that give none')
  .addOption(new Option('--tlp <tlp>', 'TLP of rows that give none').choices(['CLEAR', 'GREEN', 'AMBER', 'AMBER_STRICT', 'RED']))
  .addOption(new Option('--batch <n>', 'statements per submitStatements call (at most the service\'s CORDON_MAX_SUBMIT_BATCH)').env('CORDON_MAX_SUBMIT_BATCH').argParser(positiveInt).default(1000))
  .option('--iss <principalId>', 'your principal id (default: asked of the service with `me`)')
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (opts: ApiOptions & { in: string; out: string; category?: string; confidence?: string; tlp?: string; batch: number; iss?: string }) => {
    const key = await readKey(opts.key);
    const iss = opts.iss ?? (await ownPrincipalId(opts));
    const mutation = 'mutation($jws: [String!]!) { submitStatements(jws: $jws) { ok code error result { receipt indicator { id } statement { id } } } }';
    const result = await runResumable(() =>
      submitFile({
        input: opts.in,
        output: opts.out,
        iss,
        key,
        batch: opts.batch,
        defaults: { category: opts.category, confidence: opts.confidence === undefined ? undefined : Number(opts.confidence), tlp: opts.tlp },
        tty: Boolean(process.stderr.isTTY),
        log: (line) => process.stderr.write(line + '\n'),
        submit: async (jws) => ((await callGraphql(opts, mutation, { jws })) as { submitStatements: Awaited<ReturnType<Parameters<typeof submitFile>[0]['submit']>> }).submitStatements,
      }),
    );
    const byCode = Object.entries(result.codes).map(([code, n]) => `${code} ${n}`).join(', ');
    process.stderr.write(`done: ${result.accepted} accepted, ${result.refused} refused${byCode ? ` (${byCode})` : ''}${result.skipped ? `; ${result.skipped} from an earlier run` : ''}; outcomes in ${opts.out}\n`);
    // Exit 3 when any row was refused (its outcome line says why), 0 when all were accepted.
    process.exitCode = result.refused > 0 ? 3 : 0;
  });

/** The exchange's keys for offline checks: a saved copy of /.well-known/jwks.json, or its URL. */
async function readJwks(arg: string): Promise<PublicJwk[]> {
  try {
    const text = /^https?:\/\//.test(arg) ? await (await fetch(arg)).text() : await fs.readFile(arg, 'utf8');
    const keys = (JSON.parse(text) as { keys: PublicJwk[] }).keys;
    if (!Array.isArray(keys)) throw new Error('no keys');
    return keys;
  } catch (err) {
    fail(`--jwks ${arg}: not a JWKS (${(err as Error).message})`);
  }
}

const receipt = program.command('receipt').description('the exchange’s receipts for accepted statements (SPEC 4)');
receipt
  .command('verify')
  .description('check a receipt offline against the exchange’s JWKS (and, given the statement, that it is that statement’s)')
  .argument('<receipt>', 'the receipt JWS, or @file')
  .requiredOption('--jwks <file|url>', 'the exchange’s keys: a saved copy of /.well-known/jwks.json, or its URL')
  .option('--statement <jws>', 'the statement JWS it should be for, or @file')
  .action(async (receiptArg: string, opts: { jwks: string; statement?: string }) => {
    const read = async (v: string) => (v.startsWith('@') ? (await fs.readFile(v.slice(1), 'utf8')).trim() : v.trim());
    const keys = await readJwks(opts.jwks);
    try {
      const claims = await verifyReceipt(await read(receiptArg), keys, opts.statement === undefined ? undefined : await read(opts.statement));
      process.stdout.write(JSON.stringify({ valid: true, ...claims }, null, 2) + '\n');
    } catch (err) {
      if (err instanceof ReceiptError) {
        process.stdout.write(JSON.stringify({ valid: false, reason: err.message }, null, 2) + '\n');
        process.exit(1);
      }
      throw err;
    }
  });

const webhook = program.command('webhook').description('for a member\'s webhook receiver (README "Receiving webhooks")');
webhook
  .command('verify')
  .description(
    'check a received webhook body offline: a compact JWS signed by one of the exchange\'s keys (--jwks), typ cordon-webhook+jwt, aud = its webhookId. ' +
      'Valid: the claims as JSON with valid: true (exit 0); otherwise { valid: false, reason } (exit 1). ' +
      'A delivery is retried until a 2xx answer, signed afresh each attempt with the same jti (= the Cordon-Delivery-Id header): ' +
      'receivers must deduplicate on the jti, and answer 2xx only once the event is stored',
  )
  .argument('<body>', 'a file holding the request body, or - for stdin')
  .requiredOption('--jwks <file|url>', 'the exchange’s keys: a saved copy of /.well-known/jwks.json, or its URL')
  .option('--webhook <id>', 'also require that the delivery was sent for this webhook (your receiver\'s)')
  .action(async (bodyArg: string, opts: { jwks: string; webhook?: string }) => {
    let body: string;
    try {
      if (bodyArg === '-') {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        body = Buffer.concat(chunks).toString('utf8');
      } else body = await fs.readFile(bodyArg, 'utf8');
    } catch (err) {
      fail(`${bodyArg}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    const keys = await readJwks(opts.jwks);
    try {
      const claims = await verifyWebhookDelivery(body, keys, { webhookId: opts.webhook });
      process.stdout.write(JSON.stringify({ valid: true, ...claims }, null, 2) + '\n');
    } catch (err) {
      if (err instanceof WebhookDeliveryError) {
        process.stdout.write(JSON.stringify({ valid: false, reason: err.message }, null, 2) + '\n');
        process.exit(1);
      }
      throw err;
    }
  });

program
  .command('screen')
  .description(
    'screen a file of values through the bulk endpoint (POST /v1/screen): a CSV with value, kind, network columns named in its header, ' +
      'one value a line, value,network lines, or NDJSON (one {"kind","value","network"} or {"fingerprint"} a line); results to a CSV, resumable. ' +
      'With --fingerprints only fingerprints are sent: each value is canonicalised and hashed here, its parent domains and other screening keys too',
  )
  .requiredOption('--in <file>', 'values to screen')
  .requiredOption('--out <file>', 'results CSV (appended as answers arrive; an interrupted run resumes)')
  .addOption(new Option('--kind <kind>', 'indicator kind of a value whose row gives none').choices(['WALLET_ADDRESS', 'MERCHANT_ID', 'DOMAIN', 'URL']).default('WALLET_ADDRESS'))
  .option('--network <network>', 'network of a wallet address whose row gives none (detected otherwise)')
  .option('--fingerprints', 'send only the fingerprints of the values (hashed here with the SPEC 3 rule), never the values')
  .addOption(new Option('--batch <n>', 'rows per bulk call (each call streamed; results written as they arrive)').argParser(positiveInt).default(100_000))
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (opts: ApiOptions & { in: string; out: string; kind: string; network?: string; batch: number; fingerprints?: boolean }) => {
    const key = await readKey(opts.key);
    let result: Awaited<ReturnType<typeof screenFile>>;
    try {
      result = await runResumable(() => screenFile({
        input: opts.in,
        output: opts.out,
        kind: opts.kind,
        network: opts.network,
        batch: opts.batch,
        fingerprints: Boolean(opts.fingerprints),
        tty: Boolean(process.stderr.isTTY),
        log: (line) => process.stderr.write(line + '\n'),
        // A token of its own for each call.
        bulk: (lines) => ({
          async *[Symbol.asyncIterator]() {
            yield* bulkScreen(opts.url, await signBearerToken(key, { audience: opts.audience, lifetimeSeconds: 60 }), lines);
          },
        }),
      }));
    } catch (err) {
      // A refused call (error CODE: …) or a cut connection: what was answered is kept in --out.
      process.stderr.write(err instanceof BulkCallError ? `error ${err.code}: ${err.message}\n` : `cordon: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`done: ${result.screened} screened, ${result.matches} matches${result.skipped ? `, ${result.skipped} from an earlier run` : ''}\n`);
  });

program
  .command('sync')
  .description('keep a local list of the fingerprints you can match (ACTIVE, DISPUTED) up to date from the change feed')
  .requiredOption('--out <dir>', 'directory for fingerprints.txt and the feed cursor')
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (opts: ApiOptions & { out: string }) => {
    const query = `query($after: String) { changes(after: $after, first: 100) {
      edges { cursor node { indicator { fingerprint status } } } pageInfo { hasNextPage endCursor } } }`;
    const result = await sync({
      dir: opts.out,
      page: async (after) => ((await callGraphql(opts, query, { after })) as { changes: ChangePage }).changes,
    });
    process.stderr.write(`synced: ${result.changes} changes read, ${result.fingerprints} fingerprints in ${opts.out}/fingerprints.txt\n`);
  });

program
  .command('canonical')
  .description('canonicalise an indicator value and print its fingerprint, offline (SPEC 3)')
  .argument('<kind>', 'WALLET_ADDRESS, MERCHANT_ID, DOMAIN or URL')
  .argument('<value>', 'the value (a merchant id as ACQUIRER:MID)')
  .option('--network <network>', 'wallet network (bitcoin, ethereum, tron, litecoin, bitcoin-cash, monero, solana, or an EVM chain); detected when omitted')
  .action((kind: string, value: string, opts: { network?: string }) => {
    const result = parse(kind, value, opts.network);
    if (!result.ok) {
      process.stderr.write(`refused (${result.code}): ${result.message}\n`);
      process.exit(1);
    }
    const { ok: _ok, ...shown } = result;
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  });

program
  .command('secret')
  .description('print a new 32-byte key-encryption key for CORDON_KEY_ENCRYPTION_KEY')
  .action(() => {
    process.stdout.write(newKeyEncryptionKey() + '\n');
  });

const audit = program.command('audit').description('the audit log (SPEC 6)');
audit
  .command('verify')
  .description('check every audit event, stored tree node and signed checkpoint in the database; exit 1 naming the first bad index')
  .addOption(new Option('--database-url <url>', 'PostgreSQL URL of the Cordon database (read only); default: the running embedded one under --data-dir').env('DATABASE_URL'))
  .addOption(new Option('--data-dir <dir>', 'the service\'s data directory (its embedded PostgreSQL: port and generated credentials)').env('CORDON_DATA_DIR').default('./data'))
  .action(async (opts: { databaseUrl?: string; dataDir: string }) => {
    const line = (stream: NodeJS.WriteStream) => (text: string) => stream.write(text + '\n');
    let databaseUrl = opts.databaseUrl;
    if (!databaseUrl) {
      const { embeddedDatabaseUrl, EmbeddedDatabaseError } = await import('@app/database');
      try {
        databaseUrl = await embeddedDatabaseUrl(path.resolve(opts.dataDir));
      } catch (err) {
        if (!(err instanceof EmbeddedDatabaseError)) throw err;
        process.stderr.write(`cordon: audit verify: ${err.message}\n`);
        process.exit(2);
      }
    }
    process.exitCode = await auditVerify({ databaseUrl, tty: Boolean(process.stderr.isTTY), out: line(process.stdout), err: line(process.stderr) });
  });

audit
  .command('monitor')
  .description('check that the log only grew since the last checkpoint in --state (signature, size, consistency proof); exit 1 if it shrank or forked')
  .requiredOption('--state <file>', 'where the last checkpoint seen is kept (created on the first run)')
  .addOption(keyOption())
  .addOption(urlOption())
  .addOption(audienceOption())
  .action(async (opts: ApiOptions & { state: string }) => {
    const outcome = await auditMonitor(opts.state, {
      graphql: (query, variables) => callGraphql(opts, query, variables) as Promise<any>,
      jwks: async () => {
        const response = await fetch(new URL('/.well-known/jwks.json', opts.url)).catch((err: Error) => fail(`cannot reach ${opts.url}: ${err.message}`));
        return (await response.json()) as Awaited<ReturnType<Parameters<typeof auditMonitor>[1]['jwks']>>;
      },
    });
    if (outcome.ok) {
      process.stdout.write(`${outcome.message}\n`);
      return;
    }
    process.stderr.write(`cordon: ALERT: ${outcome.message}\n`);
    if (outcome.evidence) {
      await fs.writeFile(`${opts.state}.evidence.json`, JSON.stringify(outcome.evidence, null, 2) + '\n');
      process.stderr.write(`cordon: both signed checkpoints kept in ${opts.state}.evidence.json\n`);
    }
    process.exitCode = 1;
  });

registerAdminCommands(program, audit, { callGraphql, keyOption, urlOption, audienceOption, fail, readKey, positiveInt });

await program.parseAsync(process.argv);
