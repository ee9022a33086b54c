import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Inject, Injectable } from '@nestjs/common';
import type { CordonConfig } from '@app/config';
import { parse as csvParse } from 'csv-parse';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import { type Caller, hasRole } from '../../common/caller.js';
import { ErrorCode } from '../../common/cordon.exception.js';
import { CONFIG, LOGGER } from '../../common/tokens.js';
import { Role } from '../../common/roles.js';
import { admitRequest, type PipelineRequest } from '../../graphql/pipeline.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import type { IndicatorView } from '../indicators/indicator.rows.js';
import { IndicatorStore } from '../indicators/indicator.store.js';
import { MetricsService } from '../ops/metrics.service.js';
import { RateLimits } from '../ops/rate-limits.js';
import { BULK_OPENAPI } from './bulk-openapi.js';
import { MAX_SCREEN_BATCH, type ScreenInputValues, type ScreenOutcome, ScreeningService } from './screening.service.js';

export const BULK_PATH = '/v1/screen';
export const OPENAPI_PATH = '/v1/openapi.json';

/** Lines screened together: one screening call, one audit event (`screen` with `call` and `part`). */
const CHUNK = MAX_SCREEN_BATCH;
/** Chunks screened ahead of the one being sent (the database works while the client reads). */
const AHEAD = 2;
/** Lines waiting this long for more are screened as they are. */
const FLUSH_MS = 25;

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/ndjson'];
const CSV_TYPES = ['text/csv'];
const FIELDS = new Set(['kind', 'value', 'network', 'fingerprint']);
const FINGERPRINT_LINE = /^\s*\{\s*"fingerprint"\s*:\s*"([0-9a-fA-F]{64})"\s*\}\s*$/;

/** One line of the body: an input to screen, or why it cannot be (answered in its place). */
interface Item {
  line: number;
  input?: ScreenInputValues;
  /** the field and reason of a line refused before screening */
  error?: string;
  /** what `input` echoes for a refused line */
  echo?: string;
}

/** A refusal of the whole call: before the answer starts, an HTTP error; after, the stream's last line. */
class BulkError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
    /** more `extensions` of the whole-call error body (GraphQL's, e.g. retryAfterSeconds) */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * POST /v1/screen (issue 19, README "Screening in bulk"): NDJSON (one ScreenInput a line) or CSV in,
 * NDJSON out in input order — each line a ScreenResult with its `line` number, the same fields,
 * errors and visibility as GraphQL's `screenBatch` (it is the same ScreeningService, chunk by
 * chunk of 10,000), then one `summary` line. Millions of lines a call, never all in memory: the
 * body is read only as fast as answers are taken (backpressure both ways).
 *
 * The same front door as GraphQL (graphql/pipeline.ts `admitRequest`): the bearer token,
 * the refused-sign-in brake and the per-principal rate limit — the first chunk counts as one
 * request, each further chunk as one more (over the limit the call slows down instead of failing).
 * SCREENER or CURATOR, as `screen`. Between chunks the caller's standing is checked again: a key
 * revoked, principal disabled or member suspended mid-stream ends the answer with an
 * UNAUTHENTICATED line. Each chunk is one audit event listing every fingerprint asked.
 */
@Injectable()
export class BulkScreen {
  constructor(
    private readonly screening: ScreeningService,
    private readonly store: IndicatorStore,
    private readonly auth: AuthService,
    private readonly limits: RateLimits,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(CONFIG) private readonly config: CordonConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Adds the routes to Fastify, in a scope of their own whose body parser leaves the body unread. */
  register(fastify: FastifyInstance): void {
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      scope.post(BULK_PATH, (request, reply) => this.handle(request, reply));
      scope.get(OPENAPI_PATH, async (_request, reply) => reply.header('content-type', 'application/json; charset=utf-8').send(BULK_OPENAPI));
    });
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    let caller: Caller;
    let format: 'ndjson' | 'csv';
    try {
      format = formatOf(request.headers['content-type']);
      caller = await this.admit(request);
      const length = Number(request.headers['content-length'] ?? 0);
      if (length > this.config.bulk.maxBytes) {
        throw new BulkError('PAYLOAD_TOO_LARGE', `request body is larger than CORDON_BULK_MAX_BYTES (${this.config.bulk.maxBytes} bytes)`, 413);
      }
    } catch (err) {
      return this.refuse(reply, err);
    }
    const call = randomUUID();
    const stream = Readable.from(this.answer(caller, call, format, request), { objectMode: false, highWaterMark: 1 << 20 });
    await reply
      .code(200)
      .header('content-type', 'application/x-ndjson; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('cordon-call-id', call)
      .send(stream);
  }

  /** The pipeline's admission, then the role screening requires (refusals audited as GraphQL's are). */
  private async admit(request: FastifyRequest): Promise<Caller> {
    let caller: Caller;
    try {
      caller = await admitRequest({ auth: this.auth, limits: this.limits }, request as unknown as PipelineRequest);
    } catch (err) {
      if (err instanceof GraphQLError) {
        const http = err.extensions.http as { status?: number; headers?: Map<string, string> } | undefined;
        const retry = err.extensions.retryAfterSeconds;
        throw new BulkError(String(err.extensions.code), err.message, http?.status ?? 400, undefined, retry ? { 'retry-after': String(retry) } : {}, retry ? { retryAfterSeconds: retry } : {});
      }
      throw err;
    }
    if (!hasRole(caller, Role.SCREENER, Role.CURATOR)) {
      const reason = `requires one of the roles ${Role.SCREENER}, ${Role.CURATOR}`;
      await this.audit.recordAlone({ action: 'access.denied', actor: caller, subjectId: null, data: { denied: [{ path: `POST ${BULK_PATH}`, reason }] } });
      throw new BulkError(ErrorCode.FORBIDDEN, reason, 403);
    }
    return caller;
  }

  private refuse(reply: FastifyReply, err: unknown): FastifyReply {
    const e = err instanceof BulkError ? err : this.internal(err);
    this.metrics.bulkCalls.inc({ outcome: e.code });
    return reply
      .code(e.status)
      .headers(e.headers)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ errors: [{ message: e.field ? `${e.field}: ${e.message}` : e.message, extensions: { code: e.code, ...(e.field ? { field: e.field } : {}), ...e.extensions } }] });
  }

  private internal(err: unknown): BulkError {
    this.logger.error({ err }, 'bulk screening failed');
    return new BulkError(ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error', 500);
  }

  /** The answer's lines, produced only as fast as they are read. */
  private async *answer(caller: Caller, call: string, format: 'ndjson' | 'csv', request: FastifyRequest): AsyncGenerator<string | Buffer> {
    const body = request.raw;
    const limits = this.config.bulk;
    let bytes = 0;
    // CORDON_REQUEST_TIMEOUT_MS without progress — no byte of the body read and no answer taken
    // (a client that stopped sending, or stopped reading the answer): the connection is closed.
    const idle = this.config.requestTimeoutMs;
    const timer = setTimeout(() => body.socket?.destroy(), idle);
    const counted = (async function* () {
      // Not destroyed when the answer stops early: the refusal's line must still reach the client.
      for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
        timer.refresh();
        bytes += chunk.length;
        if (bytes > limits.maxBytes) throw new BulkError('PAYLOAD_TOO_LARGE', `request body is larger than CORDON_BULK_MAX_BYTES (${limits.maxBytes} bytes)`, 413);
        yield chunk;
      }
    })();
    const source = format === 'csv' ? csvItems(counted, limits.maxLineBytes) : ndjsonItems(counted, limits.maxLineBytes);
    const ahead: Promise<ChunkAnswer>[] = [];
    let part = 0;
    let lines = 0;
    let results = 0;
    let matches = 0;
    let events = 0;
    const state = { denied: false };
    const screen = (items: Item[]): Promise<ChunkAnswer> => {
      const answer = this.chunk(caller, call, part++, items, state);
      answer.catch(() => undefined); // awaited in order below
      return answer;
    };
    // Counted as they are sent, in order: `results` of an error line is what the client got.
    let chunkFailed = false;
    const take = async (): Promise<Buffer> => {
      let chunk: ChunkAnswer;
      try {
        chunk = await ahead.shift()!;
      } catch (err) {
        chunkFailed = true; // the chunks after it are not sent: the answer stays in input order
        throw err;
      }
      results += chunk.results;
      matches += chunk.matches;
      events += chunk.event ? 1 : 0;
      return chunk.text;
    };
    const input = source[Symbol.asyncIterator]();
    try {
      let items: Item[] = [];
      const read = () => {
        const promise = input.next();
        promise.catch(() => undefined); // raced or awaited below; not unhandled meanwhile
        return promise;
      };
      let next: Promise<IteratorResult<Item[]>> | null = read();
      // Lines that wait for more than FLUSH_MS are screened as they are (a client sending a few
      // lines and waiting for their answers is answered).
      let flush: Promise<'flush'> | null = null;
      const send = () => {
        ahead.push(screen(items));
        items = [];
        flush = null;
      };
      while (next || items.length > 0 || ahead.length > 0) {
        if (!next) {
          if (items.length > 0) send();
          yield await take();
          timer.refresh();
          continue;
        }
        if (ahead.length > AHEAD) {
          yield await take();
          timer.refresh();
          continue;
        }
        if (items.length > 0) flush ??= new Promise((resolve) => setTimeout(() => resolve('flush'), FLUSH_MS));
        const head = ahead[0];
        const woke = await Promise.race<IteratorResult<Item[]> | 'flush' | 'answer'>([
          next,
          ...(flush ? [flush] : []),
          ...(head ? [head.then(() => 'answer' as const, () => 'answer' as const)] : []),
        ]);
        if (woke === 'answer') {
          yield await take();
          timer.refresh();
        } else if (woke === 'flush') send();
        else if (woke.done) next = null;
        else {
          next = read();
          for (const item of woke.value) {
            if (++lines > limits.maxLines) throw new BulkError(ErrorCode.BAD_USER_INPUT, `at most ${limits.maxLines} lines a call (CORDON_BULK_MAX_LINES)`, 400, 'body');
            items.push(item);
            if (items.length === CHUNK) send();
          }
        }
      }
      if (events === 0) {
        // A call with nothing to screen is still on the record.
        await this.audit.recordAlone({ action: 'screen', actor: caller, subjectId: null, subjectMemberId: caller.memberId, data: { count: 0, fingerprints: [], call, part: 0 } });
      }
      this.metrics.bulkCalls.inc({ outcome: 'ok' });
      yield `${JSON.stringify({ summary: { call, lines, results, matches } })}\n`;
    } catch (err) {
      // When the input failed (a limit, bad CSV), the chunks before it are answered (their events
      // are committed); when a chunk failed, nothing after it is. Then the refusal.
      while (!chunkFailed && ahead.length > 0) {
        try {
          yield await take();
          timer.refresh();
        } catch {
          break;
        }
      }
      ahead.splice(0);
      const e = err instanceof BulkError ? err : this.internal(err);
      this.metrics.bulkCalls.inc({ outcome: e.code });
      yield `${JSON.stringify({ error: { code: e.code, message: e.field ? `${e.field}: ${e.message}` : e.message, ...(e.field ? { field: e.field } : {}), results } })}\n`;
      drainRest(body);
    } finally {
      clearTimeout(timer);
      void input.return?.(undefined).catch(() => undefined);
    }
  }

  /**
   * One chunk: standing re-checked (after the first: the caller as it stands now, its roles
   * included, is the one this chunk is screened for), rate-limited, screened, answered as text.
   */
  private async chunk(first: Caller, call: string, part: number, items: Item[], state: { denied: boolean }): Promise<ChunkAnswer> {
    let caller = first;
    if (part > 0) {
      const standing = await this.auth.standing(first.kid);
      if (!standing) throw new BulkError(ErrorCode.UNAUTHENTICATED, 'the key was revoked, its principal disabled or its member suspended during the call', 401);
      if (!hasRole(standing, Role.SCREENER, Role.CURATOR)) {
        const reason = `requires one of the roles ${Role.SCREENER}, ${Role.CURATOR} (the principal's roles changed during the call)`;
        // One refusal on the record per call (the chunks screened ahead find it too).
        if (!state.denied && (state.denied = true)) await this.audit.recordAlone({ action: 'access.denied', actor: standing, subjectId: null, data: { denied: [{ path: `POST ${BULK_PATH}`, reason }] } });
        throw new BulkError(ErrorCode.FORBIDDEN, reason, 403);
      }
      caller = standing;
      await this.limits.wait(caller.principalId);
    }
    const inputs: ScreenInputValues[] = [];
    for (const item of items) if (item.input) inputs.push(item.input);
    const outcomes = inputs.length > 0 ? await this.screening.screen(caller, inputs, { call, part }) : [];
    const ids = [...new Set(outcomes.flatMap((o) => (o.indicator ? [o.indicator.id] : [])))];
    const views = new Map<string, IndicatorView>(ids.length > 0 ? (await this.store.views(caller, ids)).map((v) => [v.id, v]) : []);
    // Each line written into one buffer as it is made: a string of 10,000 lines concatenated
    // would be flattened and encoded again on its way out (most of the cost of a miss's line).
    const text = new LineBuffer(items.length * 360);
    let next = 0;
    let matches = 0;
    for (const item of items) {
      if (item.input) {
        const outcome = outcomes[next++];
        if (outcome.match) matches++;
        text.write(resultLine(item.line, outcome, views));
      } else {
        text.write(refusedLine(item));
      }
    }
    return { text: text.done(), results: items.length, matches, event: inputs.length > 0 };
  }
}

/** Bytes of a refused call's body read and dropped, at most, before its connection is closed. */
const DRAIN_MAX = 64 * 1024 * 1024;

/**
 * The rest of a refused call's body, read and dropped, so that the connection (kept alive, as the
 * client may send its next request on it) reaches the next request. The body's iterator still
 * holds a 'readable' listener, which makes resume() alone do nothing; the 'data' listener makes
 * the stream flow as soon as that listener is released. A client still sending past DRAIN_MAX is
 * disconnected instead.
 */
function drainRest(body: FastifyRequest['raw']): void {
  let dropped = 0;
  body.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_MAX) body.socket?.destroy();
  });
  body.resume();
}

interface ChunkAnswer {
  text: Buffer;
  results: number;
  matches: number;
  /** whether the chunk wrote an audit event (it screened at least one line) */
  event: boolean;
}

function formatOf(contentType: string | undefined): 'ndjson' | 'csv' {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (NDJSON_TYPES.includes(type)) return 'ndjson';
  if (CSV_TYPES.includes(type)) return 'csv';
  throw new BulkError(ErrorCode.BAD_USER_INPUT, `must be application/x-ndjson (one ScreenInput a line) or text/csv, got "${type.slice(0, 64)}"`, 415, 'content-type');
}

/** NDJSON lines, a batch per chunk of the body read; a line longer than the limit is its own error. */
async function* ndjsonItems(body: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Item[]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let skipping = false;
  let line = 0;
  const tooLong = (n: number): Item => ({ line: n, error: `line: longer than ${maxLineBytes} bytes (CORDON_BULK_MAX_LINE_BYTES)`, echo: '' });
  for await (const buffer of body) {
    const text = carry + decoder.write(buffer);
    const batch: Item[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      if (skipping) skipping = false;
      else {
        line++;
        const item = lineItem(text, start, nl, line, maxLineBytes);
        if (item) batch.push(item);
      }
      start = nl + 1;
    }
    carry = skipping ? '' : text.slice(start);
    if (!skipping && carry.length > maxLineBytes) {
      batch.push(tooLong(++line));
      skipping = true;
      carry = '';
    }
    if (batch.length > 0) yield batch;
  }
  const tail = carry + decoder.end();
  if (!skipping && tail.trim() !== '') {
    const item = lineItem(tail, 0, tail.length, ++line, maxLineBytes);
    if (item) yield [item];
  }
}

/** The item of text[start, end) (its line number `line`), or null for a blank line. */
function lineItem(text: string, start: number, end: number, line: number, maxLineBytes: number): Item | null {
  if (end > start && text.charCodeAt(end - 1) === 13) end--; // \r\n
  const source = text.slice(start, end);
  if (source.length > maxLineBytes / 3 && Buffer.byteLength(source) > maxLineBytes) {
    return { line, error: `line: longer than ${maxLineBytes} bytes (CORDON_BULK_MAX_LINE_BYTES)`, echo: '' };
  }
  const fast = FINGERPRINT_LINE.exec(source);
  if (fast) return { line, input: { fingerprint: fast[1] } };
  if (source.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    return { line, error: 'line: not valid JSON (one ScreenInput object a line: {"kind", "value", "network"} or {"fingerprint"})', echo: '' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { line, error: 'line: must be a JSON object ({"kind", "value", "network"} or {"fingerprint"})', echo: '' };
  }
  const input: ScreenInputValues = {};
  const record = parsed as Record<string, unknown>;
  const echo = typeof record.fingerprint === 'string' ? record.fingerprint : typeof record.value === 'string' ? record.value : '';
  for (const key of Object.keys(record)) {
    if (!FIELDS.has(key)) return { line, error: `${key.slice(0, 64)}: unknown field (a line gives kind, value and network, or fingerprint)`, echo };
    const v = record[key];
    if (v !== null && typeof v !== 'string') return { line, error: `${key}: must be a string or null`, echo };
    input[key as keyof ScreenInputValues] = v as string | null;
  }
  return { line, input };
}

/** CSV with a header row naming its columns (kind, value, network, fingerprint; any order and case). */
async function* csvItems(body: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Item[]> {
  const parser = csvParse({ bom: true, skip_empty_lines: true, trim: true, relax_column_count: true, max_record_size: maxLineBytes, info: true });
  const feeding = Readable.from(body).pipe(parser);
  let columns: { kind: number; value: number; network: number; fingerprint: number } | undefined;
  let batch: Item[] = [];
  try {
    for await (const { record, info } of feeding as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!columns) {
        const names = record.map((name) => name.toLowerCase());
        columns = { kind: names.indexOf('kind'), value: names.indexOf('value'), network: names.indexOf('network'), fingerprint: names.indexOf('fingerprint') };
        if (columns.value < 0 && columns.fingerprint < 0) {
          throw new BulkError(ErrorCode.BAD_USER_INPUT, 'the first row must name the columns: value (with kind, network) and/or fingerprint, in any order', 400, 'header');
        }
        continue;
      }
      const cell = (i: number) => (i >= 0 && record[i] !== undefined && record[i] !== '' ? record[i] : null);
      const input: ScreenInputValues = {};
      const fields = { kind: cell(columns.kind), value: cell(columns.value), network: cell(columns.network), fingerprint: cell(columns.fingerprint) };
      for (const [key, v] of Object.entries(fields)) if (v !== null) input[key as keyof ScreenInputValues] = v;
      batch.push({ line: info.lines, input });
      if (batch.length >= 1000) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    if (err instanceof BulkError) throw err;
    const e = err as { code?: string; message?: string; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      const reason = e.code === 'CSV_MAX_RECORD_SIZE' ? `a row is longer than ${maxLineBytes} bytes (CORDON_BULK_MAX_LINE_BYTES)` : `not valid CSV (${e.code})`;
      throw new BulkError(ErrorCode.BAD_USER_INPUT, `${reason}${e.lines ? ` at line ${e.lines}` : ''}`, 400, 'body');
    }
    throw err;
  }
  if (batch.length > 0) yield batch;
}

function iso(d: Date | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}

/** A result line: ScreenResult's fields (the indicator's as GraphQL gives them) and the input's line number. */
function resultLine(line: number, o: ScreenOutcome, views: Map<string, IndicatorView>): string {
  let indicator: Record<string, unknown> | null = null;
  if (o.indicator) {
    const row = o.indicator;
    const view = views.get(row.id);
    indicator = {
      id: row.id,
      kind: row.kind,
      network: row.network === '' ? null : row.network,
      value: row.value,
      fingerprint: row.fingerprint,
      status: row.status,
      ...(view
        ? {
            confidence: view.confidence,
            category: view.category,
            tlp: view.tlp,
            attestationCount: view.attestation_count,
            firstSeenAt: iso(view.first_seen_at),
            lastSeenAt: iso(view.last_seen_at),
            supportedUntil: iso(view.supported_until),
            createdAt: iso(view.first_seen_at),
            updatedAt: iso(view.updated_at),
            version: view.version,
          }
        : {}),
    };
  }
  if (!indicator) {
    // Most lines: no match. The same object JSON.stringify would write, written directly.
    return `{"line":${line},"input":${JSON.stringify(o.input)},"kind":${json(o.kind)},"network":${json(o.network)},"normalized":${json(o.normalized)},"fingerprint":${json(o.fingerprint)},"valid":${o.valid},"error":${json(o.error)},"match":${o.match},"matchedVia":${json(o.matchedVia)},"matchedValue":${json(o.matchedValue)},"pending":${o.pending},"disputed":${o.disputed},"indicator":null}\n`;
  }
  return `${JSON.stringify({
    line,
    input: o.input,
    kind: o.kind,
    network: o.network,
    normalized: o.normalized,
    fingerprint: o.fingerprint,
    valid: o.valid,
    error: o.error,
    match: o.match,
    matchedVia: o.matchedVia,
    matchedValue: o.matchedValue,
    pending: o.pending,
    disputed: o.disputed,
    indicator,
  })}\n`;
}

const json = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/** UTF-8 lines appended to one growing buffer. */
class LineBuffer {
  private buffer: Buffer;
  private length = 0;
  constructor(estimate: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(1024, estimate));
  }
  write(line: string): void {
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (this.length + line.length * 3 > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + line.length * 3));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    this.length += this.buffer.write(line, this.length);
  }
  done(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function refusedLine(item: Item): string {
  return `${JSON.stringify({
    line: item.line,
    input: item.echo ?? '',
    kind: null,
    network: null,
    normalized: null,
    fingerprint: null,
    valid: false,
    error: item.error,
    match: false,
    matchedVia: null,
    matchedValue: null,
    pending: false,
    disputed: false,
    indicator: null,
  })}\n`;
}
