import canonicalize from 'canonicalize';
import * as jose from 'jose';
import type pg from 'pg';
import { decodeFrontier, HASH_SIZE, leafHash, type StoredNode, toHex, TreeBuilder } from '@app/merkle';

/**
 * The verify command (SPEC 6): recomputes every leaf of the audit log from the stored canonical
 * bytes, rebuilds the RFC 9162 tree, and checks every stored node, the stored frontier and every
 * stored signed checkpoint against it. Framework-free: give it a connected pg client.
 *
 * It reads one consistent snapshot (a REPEATABLE READ READ ONLY transaction of its own), streams
 * the events in index order with keyset pagination and keeps O(chunk + log n) in memory, so it
 * copes with logs of any length.
 */

export const CHECKPOINT_TYP = 'cordon-checkpoint+jwt';

export interface VerifyProblem {
  /** the smallest leaf index the problem implicates; null when none can be named */
  index: number | null;
  what: string;
}

export interface VerifyReport {
  ok: boolean;
  /** events read */
  events: number;
  /** stored audit_node rows checked against the rebuilt tree */
  nodes: number;
  /** stored checkpoints checked */
  checkpoints: number;
  /** the smallest leaf index any problem implicates */
  firstBadIndex: number | null;
  /** the first MAX_PROBLEMS problems, in the order found */
  problems: VerifyProblem[];
  /** all problems found (problems holds the first MAX_PROBLEMS) */
  problemCount: number;
}

export interface VerifyOptions {
  /** events per query (default 10,000) */
  chunk?: number;
  /** called after each chunk with the events checked so far and audit_head.size */
  onProgress?: (checked: number, total: number) => void;
}

export const MAX_PROBLEMS = 20;
const DEFAULT_CHUNK = 10_000;
const CHECKPOINT_PAGE = 1_000;
/**
 * An event's members by version: version 1 (the first events of logs begun before salts) and
 * version 2, with `salt` — 256 random bits, base64url — so that a leaf hash reveals nothing to
 * whoever cannot read the event. Once a log has a version-2 event, every later one must be too.
 */
const EVENT_KEYS: Record<number, string[]> = {
  1: ['action', 'actor', 'at', 'data', 'index', 'subject', 'subjectMember', 'v'],
  2: ['action', 'actor', 'at', 'data', 'index', 'salt', 'subject', 'subjectMember', 'v'],
};
const SALT = /^[A-Za-z0-9_-]{43}$/;

type Client = pg.ClientBase;

interface EventRow {
  idx: string;
  at: string;
  action: string;
  actor_principal_id: string | null;
  actor_member_id: string | null;
  subject_id: string | null;
  subject_member_id: string | null;
  canonical: string;
  leaf_hash: Buffer;
}

interface CheckpointRow {
  tree_size: string;
  root_hash: Buffer;
  /** exact text of the timestamptz, for the keyset */
  issued_key: string;
  /** ISO 8601 UTC with microseconds */
  issued_at: string;
  signature: string;
}

/** timestamptz as ISO 8601 UTC with microseconds; isoMicros() brings a JS ISO string to the same form. */
const ISO_MICROS = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;

/** "2026-11-29T21:00:00.123000Z" -> "2026-11-29T21:00:00.123Z" when the microseconds are whole milliseconds. */
function trimMicros(iso: string): string {
  return iso.replace(/\.(\d{3})000Z$/, '.$1Z');
}

function isoMicros(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) return null;
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function hasExactKeys(value: object, keys: readonly string[]): boolean {
  const own = Object.keys(value).sort();
  return own.length === keys.length && own.every((k, i) => k === keys[i]);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameUuid(a: unknown, column: string | null): boolean {
  if (column === null) return a === null;
  return typeof a === 'string' && a.toLowerCase() === column.toLowerCase();
}

/** What is wrong with one event row, beyond its position (empty when nothing is); `leaf` is SHA-256(0x00 || canonical). */
function checkEvent(row: EventRow, leaf: Buffer, salted: { since: number | null }): string[] {
  const issues: string[] = [];
  const idx = Number(row.idx);
  let event: unknown;
  try {
    event = JSON.parse(row.canonical);
  } catch {
    event = undefined;
    issues.push('canonical is not JSON');
  }
  if (event !== undefined) {
    let canonical: string | undefined;
    try {
      canonical = canonicalize(event);
    } catch {
      canonical = undefined;
    }
    if (canonical !== row.canonical) issues.push('canonical is not in RFC 8785 canonical form');
    if (!isObject(event)) {
      issues.push('canonical is not a JSON object');
    } else {
      const keys = typeof event.v === 'number' ? EVENT_KEYS[event.v] : undefined;
      if (!keys) issues.push(`canonical v is ${JSON.stringify(event.v)}, not 1 or 2`);
      else if (!hasExactKeys(event, keys)) issues.push(`canonical members are not exactly ${keys.join(', ')}`);
      if (event.v === 2) {
        if (typeof event.salt !== 'string' || !SALT.test(event.salt)) issues.push('canonical salt is not 256 bits of base64url');
        salted.since ??= idx;
      } else if (salted.since !== null) {
        issues.push(`an unsalted (v 1) event after salted events (the first at ${salted.since})`);
      }
      if (event.index !== idx) issues.push(`canonical index ${JSON.stringify(event.index)} differs from idx ${idx}`);
      const at = trimMicros(row.at);
      if (event.at !== at) issues.push(`canonical at ${JSON.stringify(event.at)} differs from the at column ${at}`);
      if (event.action !== row.action) issues.push(`canonical action ${JSON.stringify(event.action)} differs from the action column ${JSON.stringify(row.action)}`);
      const actor = event.actor;
      if (row.actor_principal_id === null && row.actor_member_id === null) {
        if (actor !== null) issues.push('canonical actor is not null but the actor columns are');
      } else if (!isObject(actor) || !hasExactKeys(actor, ['member', 'principal']) || !sameUuid(actor.principal, row.actor_principal_id) || !sameUuid(actor.member, row.actor_member_id)) {
        issues.push('canonical actor differs from the actor columns');
      }
      if (event.subject !== row.subject_id) issues.push(`canonical subject ${JSON.stringify(event.subject)} differs from the subject_id column`);
      if (!sameUuid(event.subjectMember, row.subject_member_id)) issues.push('canonical subjectMember differs from the subject_member_id column');
      if (!isObject(event.data)) issues.push('canonical data is not an object');
    }
  }
  if (!leaf.equals(row.leaf_hash)) issues.push('leaf_hash is not SHA-256(0x00 || canonical)');
  return issues;
}

/** Powers of two as plain numbers (no 32-bit bit operators: sizes go up to 2^53). */
const pow2 = (level: number) => 2 ** level;

/** Sizes of the perfect subtrees of a tree of `size` leaves, largest first (the frontier's shape). */
function frontierSpans(size: number): number[] {
  const spans: number[] = [];
  for (let span = 2 ** 52; span >= 1; span /= 2) if (Math.floor(size / span) % 2 === 1) spans.push(span);
  return spans;
}

function popcount(n: number): number {
  return frontierSpans(n).length;
}

class Problems {
  readonly list: VerifyProblem[] = [];
  count = 0;
  first: number | null = null;

  add(index: number | null, what: string): void {
    this.count++;
    if (index !== null && (this.first === null || index < this.first)) this.first = index;
    if (this.list.length < MAX_PROBLEMS) this.list.push({ index, what });
  }
}

/** The stored checkpoints in (tree_size, issued_at) order, a page at a time. */
class CheckpointCursor {
  private page: CheckpointRow[] = [];
  private position = 0;
  private done = false;
  private after: [string, string] = ['-1', '-infinity'];

  constructor(private readonly client: Client) {}

  async peek(): Promise<CheckpointRow | undefined> {
    if (this.position < this.page.length) return this.page[this.position];
    if (this.done) return undefined;
    const { rows } = await this.client.query<CheckpointRow>(
      `SELECT tree_size, root_hash, issued_at::text AS issued_key,
              to_char(issued_at AT TIME ZONE 'UTC', ${ISO_MICROS}) AS issued_at, signature
         FROM audit_checkpoint WHERE (tree_size, issued_at) > ($1::bigint, $2::timestamptz)
        ORDER BY tree_size, issued_at LIMIT ${CHECKPOINT_PAGE}`,
      this.after,
    );
    this.page = rows;
    this.position = 0;
    if (rows.length < CHECKPOINT_PAGE) this.done = true;
    if (rows.length === 0) return undefined;
    const last = rows[rows.length - 1];
    this.after = [last.tree_size, last.issued_key];
    return rows[0];
  }

  /** Whether a checkpoint of this size may come next (true when the next page is not read yet), without a query. */
  mayBeAt(size: number): boolean {
    return this.position < this.page.length ? Number(this.page[this.position].tree_size) === size : !this.done;
  }

  skip(): void {
    this.position++;
  }
}

/** The exchange public keys by kid, imported once each. */
class ExchangeKeys {
  private readonly imported = new Map<string, Promise<{ alg: string; key: Awaited<ReturnType<typeof jose.importJWK>> }>>();

  constructor(private readonly jwks: Map<string, Record<string, unknown>>) {}

  get(kid: string) {
    const jwk = this.jwks.get(kid);
    if (!jwk) return undefined;
    let key = this.imported.get(kid);
    if (!key) {
      const alg = String(jwk.alg);
      key = jose.importJWK({ ...jwk } as jose.JWK, alg).then((k) => ({ alg, key: k }));
      key.catch(() => undefined);
      this.imported.set(kid, key);
    }
    return key;
  }
}

/** What is wrong with a checkpoint's signature and signed payload (empty when nothing is). */
async function checkSignature(row: CheckpointRow, keys: ExchangeKeys): Promise<string[]> {
  let header: jose.ProtectedHeaderParameters;
  try {
    header = jose.decodeProtectedHeader(row.signature);
  } catch {
    return ['signature is not a compact JWS'];
  }
  const issues: string[] = [];
  if (header.typ !== CHECKPOINT_TYP) issues.push(`signature typ is ${JSON.stringify(header.typ)}, not ${CHECKPOINT_TYP}`);
  const kid = typeof header.kid === 'string' ? header.kid : '';
  const keyPromise = keys.get(kid);
  if (!keyPromise) return [...issues, `signature kid ${JSON.stringify(header.kid)} is not an exchange key`];
  let payload: Uint8Array;
  try {
    const { alg, key } = await keyPromise;
    ({ payload } = await jose.compactVerify(row.signature, key, { algorithms: [alg] }));
  } catch {
    return [...issues, `signature does not verify with exchange key ${kid}`];
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return [...issues, 'signed payload is not JSON'];
  }
  if (!isObject(claims) || !hasExactKeys(claims, ['issuedAt', 'rootHash', 'treeSize'])) return [...issues, 'signed payload is not {treeSize, rootHash, issuedAt}'];
  if (claims.treeSize !== Number(row.tree_size)) issues.push(`signed treeSize ${JSON.stringify(claims.treeSize)} differs from the row's ${row.tree_size}`);
  if (claims.rootHash !== toHex(row.root_hash)) issues.push(`signed rootHash differs from the row's`);
  if (isoMicros(claims.issuedAt) !== row.issued_at) issues.push(`signed issuedAt ${JSON.stringify(claims.issuedAt)} differs from the row's ${trimMicros(row.issued_at)}`);
  return issues;
}

/**
 * Verifies the whole audit log. Never throws for bad data (that is a problem in the report);
 * throws only when the database cannot be read.
 */
export async function verifyAuditLog(client: pg.Client | pg.PoolClient, options: VerifyOptions = {}): Promise<VerifyReport> {
  const chunk = options.chunk ?? DEFAULT_CHUNK;
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new RangeError('verifyAuditLog: chunk must be a positive whole number');
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const report = await verifyInSnapshot(client, chunk, options.onProgress);
    await client.query('COMMIT');
    return report;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function verifyInSnapshot(client: Client, chunk: number, onProgress?: (checked: number, total: number) => void): Promise<VerifyReport> {
  const problems = new Problems();

  const heads = (await client.query<{ size: string }>('SELECT size FROM audit_head')).rows;
  const trees = (await client.query<{ size: string; frontier: Buffer }>('SELECT size, frontier FROM audit_tree')).rows;
  const jwks = (await client.query<{ kid: string; public_jwk: Record<string, unknown> }>('SELECT kid, public_jwk FROM exchange_key')).rows;
  const headSize = heads.length === 1 ? Number(heads[0].size) : null;
  if (heads.length !== 1) problems.add(null, `audit_head has ${heads.length} rows, not 1`);
  if (trees.length !== 1) problems.add(null, `audit_tree has ${trees.length} rows, not 1`);
  /** The integrated size: stored nodes must exist for exactly the complete subtrees within it. */
  const treeSize = trees.length === 1 ? Number(trees[0].size) : 0;
  const keys = new ExchangeKeys(new Map(jwks.map((r) => [r.kid, r.public_jwk])));
  const checkpoints = new CheckpointCursor(client);

  const builder = new TreeBuilder();
  /**
   * Mirrors the builder's right-edge stack: for each subtree on it, the smallest leaf index of a
   * problem found under it (Infinity if none). A stored node that differs where a leaf below it is
   * already known bad is explained by that leaf rather than reported again; a checkpoint root
   * that differs is attributed to the first known-bad leaf.
   */
  const bad: number[] = [];
  let explainedNodes = 0;
  let firstExplained: { node: StoredNode; index: number } | undefined;
  let nodesChecked = 0;
  let checkpointsChecked = 0;
  let frontierChecked = false;
  let events = 0;
  /** the next idx expected (gapless from 0) */
  let expected = 0;
  /** leaf positions from here on are shifted by missing events */
  let shiftedFrom = Infinity;
  /** the index of the first salted (v 2) event seen */
  const salted: { since: number | null } = { since: null };

  const firstKnownBad = () => bad.reduce((a, b) => Math.min(a, b), Infinity);

  /** Everything to check once the rebuilt tree has `size` leaves: the stored frontier, checkpoints of that size. */
  const atSize = async (size: number): Promise<void> => {
    if (size === treeSize && trees.length === 1 && !frontierChecked) {
      frontierChecked = true;
      checkFrontier(size);
    }
    if (checkpoints.mayBeAt(size)) await checkCheckpointsAt(size);
  };

  const checkFrontier = (size: number): void => {
    let stored;
    try {
      stored = decodeFrontier(size, trees[0].frontier);
    } catch {
      problems.add(size, `audit_tree frontier is ${trees[0].frontier.length} bytes, not ${popcount(size) * HASH_SIZE} for size ${size}`);
      return;
    }
    const rebuilt = builder.frontier();
    const spans = frontierSpans(size);
    let offset = 0;
    for (let j = 0; j < spans.length; j++) {
      if (!stored.hashes[j].equals(rebuilt.hashes[j])) {
        const index = Number.isFinite(bad[j]) ? bad[j] : offset;
        problems.add(index, `audit_tree frontier at size ${size} differs from the rebuilt tree (subtree of leaves [${offset}, ${offset + spans[j]}))`);
        return;
      }
      offset += spans[j];
    }
  };

  const checkCheckpointsAt = async (size: number): Promise<void> => {
    let root: Buffer | undefined;
    for (let row = await checkpoints.peek(); row && Number(row.tree_size) === size; checkpoints.skip(), row = await checkpoints.peek()) {
      root ??= builder.root();
      checkpointsChecked++;
      const issues = await checkSignature(row, keys);
      const label = `checkpoint of size ${size} issued ${trimMicros(row.issued_at)}`;
      if (!row.root_hash.equals(root)) {
        const known = firstKnownBad();
        const index = Number.isFinite(known) ? known : size;
        problems.add(index, `${label}: root ${toHex(row.root_hash)} differs from the rebuilt root ${toHex(root)}${issues.length ? '; ' + issues.join('; ') : ''}`);
      } else if (issues.length > 0) {
        problems.add(size, `${label}: ${issues.join('; ')}`);
      }
    }
  };

  await atSize(0);

  const fetchEvents = (after: number): Promise<EventRow[]> =>
    client.query<EventRow>(
      `SELECT idx, to_char(at AT TIME ZONE 'UTC', ${ISO_MICROS}) AS at, action, actor_principal_id, actor_member_id,
              subject_id, subject_member_id, canonical, leaf_hash
         FROM audit_event WHERE idx > $1 ORDER BY idx LIMIT ${chunk}`,
      [after],
    ).then((r) => r.rows);

  let pending = fetchEvents(-1);
  for (;;) {
    const rows = await pending;
    if (rows.length === 0) break;
    const start = builder.size;
    const end = start + rows.length;
    // Stored nodes the builder completes in this chunk: those whose last leaf is in [start, end), within the integrated size.
    const stored = fetchNodes(client, start, Math.min(end, treeSize));
    // The next chunk is read while this one is hashed (the client runs the queries in turn).
    if (rows.length === chunk) {
      pending = fetchEvents(Number(rows[rows.length - 1].idx));
      pending.catch(() => undefined);
    } else {
      pending = Promise.resolve([]);
    }
    const nodes = await stored;
    nodesChecked += nodes.count;

    for (const row of rows) {
      const idx = Number(row.idx);
      let leafBad = shiftedFrom;
      if (idx !== expected) {
        problems.add(expected, idx > expected ? `event${idx - expected > 1 ? `s ${expected}..${idx - 1} are` : ` ${expected} is`} missing (the next stored event is ${idx})` : `event ${idx} is out of order`);
        leafBad = Math.min(leafBad, expected);
        if (shiftedFrom === Infinity) shiftedFrom = expected;
      }
      expected = idx + 1;
      // The tree is rebuilt over what the canonical bytes say, not over the stored leaf_hash.
      const leaf = leafHash(row.canonical);
      const issues = checkEvent(row, leaf, salted);
      if (issues.length > 0) {
        problems.add(idx, `event ${idx}: ${issues.join('; ')}`);
        leafBad = Math.min(leafBad, idx);
      }
      events++;

      const completed = builder.push(leaf);
      bad.push(leafBad);
      for (const node of completed) {
        const right = bad.pop()!;
        let under = Math.min(bad.pop()!, right);
        const span = pow2(node.level);
        const first = node.index * span;
        if ((node.index + 1) * span <= treeSize) {
          const hash = nodes.get(node.level, node.index);
          if (!hash || !hash.equals(node.hash)) {
            const what = `audit_node (level ${node.level}, idx ${node.index}) over leaves [${first}, ${first + span}) ${hash ? 'differs from the rebuilt tree' : 'is missing'}`;
            if (Number.isFinite(under)) {
              explainedNodes++;
              if (!firstExplained) firstExplained = { node, index: under };
            } else {
              problems.add(first, what);
              under = first;
            }
          }
        }
        bad.push(under);
      }
      const size = builder.size;
      if (size === treeSize || checkpoints.mayBeAt(size)) await atSize(size);
    }
    onProgress?.(events, headSize ?? events);
  }

  // Stored nodes the integrated size does not allow (or that lie beyond the events read).
  const covered = Math.min(treeSize, builder.size);
  const [{ count: totalNodes }] = (await client.query<{ count: string }>('SELECT count(*) AS count FROM audit_node')).rows;
  if (Number(totalNodes) !== nodesChecked) {
    const { rows: extra } = await client.query<{ level: number; idx: string; n: string }>(
      `SELECT level, idx, count(*) OVER () AS n FROM audit_node
        WHERE (idx + 1) * (2::numeric ^ level) > $1
        ORDER BY idx * (2::numeric ^ level), level LIMIT 1`,
      [covered],
    );
    if (extra.length > 0) {
      const level = Number(extra[0].level);
      const first = Number(extra[0].idx) * pow2(level);
      problems.add(
        Math.max(first, covered),
        `${extra[0].n} stored audit_node rows lie beyond the ${covered} leaves the tree covers (the first: level ${level}, idx ${extra[0].idx}, leaves [${first}, ${first + pow2(level)}))`,
      );
    }
  }
  if (explainedNodes > 0 && firstExplained) {
    const { node, index } = firstExplained;
    problems.add(index, `${explainedNodes} stored audit_node rows differ from the rebuilt tree above the bad events (the first: level ${node.level}, idx ${node.index})`);
  }
  const count = builder.size;
  if (headSize !== null && headSize !== count) {
    problems.add(Math.min(headSize, count), `audit_head.size is ${headSize} but the log holds ${count} events`);
  }
  if (trees.length === 1 && treeSize > count) {
    problems.add(count, `audit_tree.size is ${treeSize} but the log holds only ${count} events`);
  }
  // Checkpoints of sizes the log does not reach.
  for (let row = await checkpoints.peek(); row; checkpoints.skip(), row = await checkpoints.peek()) {
    checkpointsChecked++;
    const issues = await checkSignature(row, keys);
    problems.add(
      count,
      `checkpoint of size ${row.tree_size} issued ${trimMicros(row.issued_at)} exceeds the log of ${count} events${issues.length ? '; ' + issues.join('; ') : ''}`,
    );
  }

  return {
    ok: problems.count === 0,
    events,
    nodes: nodesChecked,
    checkpoints: checkpointsChecked,
    firstBadIndex: problems.first,
    problems: problems.list,
    problemCount: problems.count,
  };
}

/** The stored nodes of level >= 1 whose last leaf is in [start, end): one query, kept per level. */
async function fetchNodes(client: Client, start: number, end: number): Promise<{ count: number; get(level: number, index: number): Buffer | undefined }> {
  const levels: number[] = [];
  const los: number[] = [];
  const his: number[] = [];
  for (let level = 1; pow2(level) <= end; level++) {
    const span = pow2(level);
    // (idx + 1) * span in [start + 1, end]
    const lo = Math.ceil((start + 1) / span) - 1;
    const hi = Math.floor(end / span) - 1;
    if (lo <= hi) {
      levels.push(level);
      los.push(lo);
      his.push(hi);
    }
  }
  const byLevel = new Map<number, { lo: number; hashes: (Buffer | undefined)[] }>();
  levels.forEach((level, i) => byLevel.set(level, { lo: los[i], hashes: new Array<Buffer | undefined>(his[i] - los[i] + 1) }));
  if (levels.length === 0) return { count: 0, get: () => undefined };
  const { rows } = await client.query<{ level: number; idx: string; hash: Buffer }>(
    `SELECT n.level, n.idx, n.hash
       FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]) AS r(level, lo, hi)
       JOIN audit_node n ON n.level = r.level AND n.idx BETWEEN r.lo AND r.hi`,
    [levels, los, his],
  );
  for (const row of rows) {
    const slot = byLevel.get(Number(row.level))!;
    slot.hashes[Number(row.idx) - slot.lo] = row.hash;
  }
  return {
    count: rows.length,
    get: (level, index) => {
      const slot = byLevel.get(level);
      return slot ? slot.hashes[index - slot.lo] : undefined;
    },
  };
}
