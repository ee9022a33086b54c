import { randomBytes, randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { INDICATOR_KINDS, type ScreeningVia, screeningKeys } from '@app/canonical';
import { DataSource } from 'typeorm';
import { type Caller, isCoordinator } from '../../common/caller.js';
import { CordonException } from '../../common/cordon.exception.js';
import { GroupCommit } from '../../common/group-commit.js';
import { preparedRunner } from '../../common/prepared.js';
import { type AuditEventInput, AuditService } from '../audit/audit.service.js';
import { MetricsService } from '../ops/metrics.service.js';
import type { IndicatorSummary } from '../indicators/indicator.rows.js';
import { IndicatorStore, seesPending } from '../indicators/indicator.store.js';
import { ListedIndex } from './listed-index.js';

export const MAX_SCREEN_BATCH = 10_000;
/** Calls of at most this many inputs are grouped with others in flight (one statement per group). */
const GROUPED_MAX_INPUTS = 100;
/** A larger call is looked up in this many parts at most (side by side, see screen())… */
const PARTS = 4;
/** …of at least this many inputs each. */
const MIN_PART = 250;
/** Most calls one grouped statement carries. */
const MAX_GROUP = 200;
/** Largest bucket size screenByPrefix pads to. */
export const MAX_PAD = 1000;

/**
 * Pads a prefix bucket with decoys: the prefix followed by random hex, sorted in with the real
 * ones, so the answer's size (and position of anything in it) tells an observer nothing. Each
 * decoy's status is that of a real entry of the same answer drawn at random (ACTIVE when there is
 * none), so no field singles a real entry out: a lone DISPUTED entry among ACTIVE decoys would.
 * A decoy equals a real fingerprint only with probability 2^-(256 - 4 × prefix length): a client
 * that compares its own fingerprint with the list can ignore them without looking.
 */
export function pad(rows: { fingerprint: string; status: string }[], prefix: string, size: number): { fingerprint: string; status: string }[] {
  const out = [...rows];
  while (out.length < size) {
    const status = rows.length > 0 ? rows[randomInt(rows.length)].status : 'ACTIVE';
    out.push({ fingerprint: prefix + randomBytes(32).toString('hex').slice(prefix.length), status });
  }
  return out.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
}
const FINGERPRINT = /^[0-9a-fA-F]{64}$/;

export interface ScreenInputValues {
  kind?: string | null;
  value?: string | null;
  network?: string | null;
  fingerprint?: string | null;
}

type Via = ScreeningVia | 'FINGERPRINT';

export interface ScreenOutcome {
  input: string;
  kind: string | null;
  network: string | null;
  normalized: string | null;
  fingerprint: string | null;
  valid: boolean;
  error: string | null;
  match: boolean;
  matchedVia: Via | null;
  matchedValue: string | null;
  pending: boolean;
  disputed: boolean;
  indicator: IndicatorSummary | null;
}

interface Prepared {
  outcome: ScreenOutcome;
  /** keys in priority order: the value itself first, then nearer parents before farther */
  keys: { fingerprint: string; via: Via; canonical: string }[];
  /** the best match found so far: the rank (in keys) of its key, and the indicator */
  hit?: { rank: number; row: IndicatorSummary };
}

/**
 * The keys of some prepared inputs, flattened in order, each with its input and rank: a lookup
 * returns each found key's position in this list (WITH ORDINALITY), so matches are assigned
 * without hashing every fingerprint into maps. A value's own key (rank 0) is listed once per
 * input (the same value asked twice is probed twice); the derived keys — parent domains, a URL's
 * host and parents, a standard address — are listed once per list and shared by every input that
 * has them (10,000 URLs on one host probe that host once).
 */
class KeyList {
  readonly fingerprints: string[] = [];
  /** Per position: the input, or every input, whose key it is, with that key's rank for each. */
  private readonly owners: (Prepared | { owner: Prepared; rank: number }[])[] = [];
  private readonly ranks: number[] = [];
  /** Positions (0-based) of the derived keys listed so far. */
  private readonly derived = new Map<string, number>();

  /** Lists the keys of `prepared` (those `take` keeps, when given: the index's "maybe"s). */
  add(prepared: Prepared[], take?: (p: Prepared, rank: number, fingerprint: string) => boolean): this {
    for (const p of prepared) {
      for (let rank = 0; rank < p.keys.length; rank++) {
        const fingerprint = p.keys[rank].fingerprint;
        if (take && !take(p, rank, fingerprint)) continue;
        if (rank > 0) {
          const at = this.derived.get(fingerprint);
          if (at !== undefined) {
            const first = this.owners[at];
            if (Array.isArray(first)) first.push({ owner: p, rank });
            else this.owners[at] = [{ owner: first, rank: this.ranks[at] }, { owner: p, rank }];
            continue;
          }
          this.derived.set(fingerprint, this.fingerprints.length);
        }
        this.fingerprints.push(fingerprint);
        this.owners.push(p);
        this.ranks.push(rank);
      }
    }
    return this;
  }

  /** Records that the key at 1-based `position` matched `row`; each input keeps its best-ranked match. */
  found(position: number, row: IndicatorSummary, hits: Prepared[]): void {
    const owners = this.owners[position - 1];
    if (Array.isArray(owners)) for (const { owner, rank } of owners) keep(owner, rank, row, hits);
    else keep(owners, this.ranks[position - 1], row, hits);
  }
}

function keep(owner: Prepared, rank: number, row: IndicatorSummary, hits: Prepared[]): void {
  if (!owner.hit) hits.push(owner);
  else if (owner.hit.rank <= rank) return;
  owner.hit = { rank, row };
}

/** A found key: its 1-based position in the KeyList looked up, and the indicator. */
interface Found {
  position: number;
  row: IndicatorSummary;
}

/**
 * SPEC 5 screening: canonicalise in process, then one set-based query per call on the indexed
 * fingerprint column, with visibility and matchable statuses in the WHERE. One audit event per call.
 */
@Injectable()
export class ScreeningService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly store: IndicatorStore,
    private readonly index: ListedIndex,
  ) {}

  /**
   * Screens `inputs` for `caller`: results in input order, one audit event (`screen`) listing every
   * fingerprint asked. `part` names the bulk call and chunk an event belongs to (POST /v1/screen).
   */
  async screen(caller: Caller, inputs: ScreenInputValues[], part?: { call: string; part: number }): Promise<ScreenOutcome[]> {
    if (inputs.length > MAX_SCREEN_BATCH) throw CordonException.badInput('inputs', `at most ${MAX_SCREEN_BATCH} inputs per call, got ${inputs.length}`);
    const event = (prepared: Prepared[]): AuditEventInput => ({
      action: 'screen',
      actor: caller,
      subjectId: null,
      subjectMemberId: caller.memberId,
      data: { count: inputs.length, fingerprints: prepared.map((p) => p.outcome.fingerprint), ...(part ?? {}) },
    });
    // The index, when built: `at` is read before any key is tested against it (it only grows).
    const index = this.index.ready ? this.index : null;
    const at = index?.at ?? -1;
    const listed = index ? (_p: Prepared, _rank: number, fingerprint: string) => index.mayContain(fingerprint) : undefined;
    let prepared: Prepared[];
    let head: number;
    const hits: Prepared[] = [];
    if (inputs.length <= GROUPED_MAX_INPUTS || index) {
      // Small calls (an exchange's deposit check), and with the index every call (it leaves ~1 %
      // of the keys to look up), are grouped with the others in flight: one statement logs the
      // whole group and looks all of it up.
      prepared = await prepareAll(inputs);
      const keys = new KeyList().add(prepared, listed);
      const answer = await this.grouped(caller, keys.fingerprints, event(prepared));
      for (const f of answer.found) keys.found(f.position, f.row, hits);
      head = answer.head;
    } else {
      // Without the index, large calls are cut into a few parts, each looked up (on its own
      // connection) as soon as it is canonicalised, so PostgreSQL probes one part while the next
      // is being prepared and the parts' probes run side by side; the call's event is logged
      // while they run. Between parts the event loop is free for other requests.
      prepared = [];
      const lookups: Promise<number>[] = [];
      const part = Math.max(MIN_PART, Math.ceil(inputs.length / PARTS));
      for (let from = 0; from < inputs.length; from += part) {
        if (from > 0) await new Promise((resolve) => setImmediate(resolve));
        const chunk = inputs.slice(from, from + part).map((input) => prepare(input));
        prepared.push(...chunk);
        const keys = new KeyList().add(chunk);
        if (keys.fingerprints.length === 0) continue;
        const lookup = this.lookup(caller, keys.fingerprints).then(({ found, head }) => {
          for (const f of found) keys.found(f.position, f.row, hits);
          return head;
        });
        lookup.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
        lookups.push(lookup);
      }
      const [heads] = await Promise.all([Promise.all(lookups), this.audit.recordAlone(event(prepared))]);
      head = Math.max(-1, ...heads);
    }
    if (index && head > at) {
      // The database had changes the index did not hold when its keys were tested: catch up, then
      // look up what the newer index lets through that could still improve an answer (a key the
      // old one refused, ranked before the input's match so far). Never a stale miss.
      await index.ensure(head);
      const again = new KeyList().add(prepared, (p, rank, fingerprint) => (!p.hit || rank < p.hit.rank) && index.mayContain(fingerprint));
      if (again.fingerprints.length > 0) for (const f of (await this.lookup(caller, again.fingerprints)).found) again.found(f.position, f.row, hits);
    }
    // Either way the answer leaves only once its event is committed.
    for (const { outcome, keys, hit } of hits) {
      const { via, canonical } = keys[hit!.rank];
      const row = hit!.row;
      outcome.match = true;
      outcome.matchedVia = via;
      outcome.matchedValue = via === 'EXACT' || via === 'EVM_ADDRESS' || via === 'FINGERPRINT' ? null : canonical;
      outcome.pending = row.status === 'PENDING';
      outcome.disputed = row.status === 'DISPUTED';
      outcome.indicator = row;
    }
    this.metrics.screeningKeys.inc(inputs.length);
    this.metrics.screeningHits.inc(hits.length);
    return prepared.map((p) => p.outcome);
  }

  /** SPEC 5 k-anonymity: the full fingerprints of visible matchable indicators in a prefix bucket. */
  async byPrefix(caller: Caller, prefix: string, padTo?: number | null): Promise<{ fingerprint: string; status: string }[]> {
    if (!/^[0-9a-fA-F]{5,8}$/.test(prefix)) throw CordonException.badInput('prefix', 'must be 5 to 8 hexadecimal digits');
    if (padTo != null && (!Number.isInteger(padTo) || padTo < 1 || padTo > MAX_PAD)) {
      throw CordonException.badInput('padTo', `must be 1 to ${MAX_PAD}`);
    }
    const lower = prefix.toLowerCase();
    const rows = await this.store.prefixBucket(caller, lower, `${lower}g`);
    await this.audit.recordAlone({ action: 'screen.prefix', actor: caller, subjectId: null, subjectMemberId: caller.memberId, data: { prefix: lower, count: rows.length } });
    return padTo ? pad(rows, lower, padTo) : rows;
  }

  /** Group commit for small screening calls: see screen(). */
  private grouped(caller: Caller, fingerprints: string[], event: AuditEventInput): Promise<{ found: Found[]; head: number }> {
    this.metrics.screeningSqlKeys.inc(fingerprints.length);
    return this.groups.submit({ caller, fingerprints, event });
  }

  private readonly prepared = preparedRunner(this.dataSource);

  private readonly groups = new GroupCommit<{ caller: Caller; fingerprints: string[]; event: AuditEventInput }, { found: Found[]; head: number }>(
    MAX_GROUP,
    async (group) => {
      // Each key carries its call, its position in that call's list and its caller: the same
      // rule as the other lookups, caller by caller.
      const calls: number[] = [];
      const positions: number[] = [];
      const fingerprints: string[] = [];
      const members: string[] = [];
      const coordinators: boolean[] = [];
      const pendings: boolean[] = [];
      group.forEach((g, call) => {
        const pending = seesPending(g.caller);
        const coordinator = isCoordinator(g.caller);
        g.fingerprints.forEach((fingerprint, i) => {
          calls.push(call);
          positions.push(i + 1);
          fingerprints.push(fingerprint);
          members.push(g.caller.memberId);
          coordinators.push(coordinator);
          pendings.push(pending);
        });
      });
      // The feed's head comes back from the same statement (its snapshot): what the index is
      // checked against (see screen()).
      const { rows } = await this.audit.appendWith<IndicatorSummary & { head: string; call: number | null; position: number }>(
        this.prepared,
        group.map((g) => g.event),
        (n) => ({
          sql: `SELECT h.head, f.* FROM (SELECT ${this.store.headSql} AS head) h LEFT JOIN LATERAL (
                  SELECT k.call, k.position, m.*
                    FROM unnest($${n}::int[], $${n + 1}::int[], $${n + 2}::text[], $${n + 3}::uuid[], $${n + 4}::boolean[], $${n + 5}::boolean[])
                         AS k(call, position, fingerprint, member, coordinator, pending)
                    ${this.store.matchLateralSql({ fingerprint: 'k.fingerprint', pending: 'k.pending', coordinator: 'k.coordinator', member: 'k.member' })}) f ON true`,
          params: [calls, positions, fingerprints, members, coordinators, pendings].map(arrayLiteral),
        }),
      );
      const head = Number(rows[0].head);
      const found = group.map((): Found[] => []);
      for (const { head: _, call, position, ...indicator } of rows) {
        if (call === null) continue;
        found[call].push({ position, row: indicator as IndicatorSummary });
      }
      return found.map((f) => ({ found: f, head }));
    },
  );

  /** The found keys of `fingerprints` (by 1-based position), with their indicators, and the feed's head. */
  private async lookup(caller: Caller, fingerprints: string[]): Promise<{ found: Found[]; head: number }> {
    this.metrics.screeningSqlKeys.inc(fingerprints.length);
    const { head, rows } = await this.store.matches(caller, arrayLiteral(fingerprints));
    return { head, found: rows.map(({ position, ...row }) => ({ position, row })) };
  }
}

/**
 * An array parameter written as PostgreSQL's array literal directly, for elements that need no
 * quoting — bare lower-case hex fingerprints (computed here, or checked and lower-cased), uuids
 * read from the database, integers, booleans — so the driver's per-element escaping (a few ms
 * per 10,000 fingerprints) is skipped.
 */
function arrayLiteral(values: (string | number | boolean)[]): string {
  return `{${values.join(',')}}`;
}

/** Canonicalises every input, yielding to the event loop between parts of a large call. */
async function prepareAll(inputs: ScreenInputValues[]): Promise<Prepared[]> {
  if (inputs.length <= MIN_PART) return inputs.map((input) => prepare(input));
  const out: Prepared[] = [];
  for (let from = 0; from < inputs.length; from += MIN_PART * 4) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    for (let i = from; i < Math.min(inputs.length, from + MIN_PART * 4); i++) out.push(prepare(inputs[i]));
  }
  return out;
}

function prepare(input: ScreenInputValues): Prepared {
  const outcome: ScreenOutcome = {
    input: input.fingerprint ?? input.value ?? '',
    // Only a kind is echoed as one (the bulk endpoint takes any string; GraphQL's enum never does).
    kind: input.kind != null && (INDICATOR_KINDS as readonly string[]).includes(input.kind) ? input.kind : null,
    network: input.network ?? null,
    normalized: null,
    fingerprint: null,
    valid: false,
    error: null,
    match: false,
    matchedVia: null,
    matchedValue: null,
    pending: false,
    disputed: false,
    indicator: null,
  };
  // Filled in place (no copies: this runs for every input of a 10,000-input call).
  const invalid = (error: string): Prepared => {
    outcome.error = error;
    return { outcome, keys: [] };
  };
  if (input.fingerprint != null) {
    if (input.kind != null || input.value != null || input.network != null) {
      return invalid('fingerprint: give a fingerprint alone, or kind and value without it');
    }
    if (!FINGERPRINT.test(input.fingerprint)) return invalid('fingerprint: must be 64 hexadecimal digits (SHA-256, SPEC 3)');
    const fp = input.fingerprint.toLowerCase();
    outcome.valid = true;
    outcome.fingerprint = fp;
    return { outcome, keys: [{ fingerprint: fp, via: 'FINGERPRINT', canonical: fp }] };
  }
  if (input.kind == null) return invalid('kind: required with a value (or give a fingerprint alone)');
  if (input.value == null) return invalid('value: required with a kind (or give a fingerprint alone)');
  const screened = screeningKeys(input.kind, input.value, input.network ?? undefined);
  if (!screened.ok) return invalid(screened.error);
  const { indicator: parsed, keys } = screened;
  outcome.valid = true;
  outcome.network = parsed.network;
  outcome.normalized = parsed.canonical;
  outcome.fingerprint = parsed.fingerprint;
  return { outcome, keys };
}
