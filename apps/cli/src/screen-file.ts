import { parse as parseCsv } from 'csv-parse/sync';
import cliProgress from 'cli-progress';
import { INDICATOR_KINDS, screeningKeys } from '@app/canonical';
import type { BulkResult } from './bulk.js';
import { openResumable, readInput, ResumeError } from './resumable.js';

export interface ScreenFileOptions {
  input: string;
  output: string;
  /** kind of a value whose row names none */
  kind: string;
  /** network of a wallet address whose row gives none */
  network?: string;
  /** rows per bulk call */
  batch: number;
  /** send fingerprints only: each value's screening keys hashed here (libs/canonical), never the value */
  fingerprints: boolean;
  /** One POST /v1/screen call: the lines sent, the result lines yielded in order (bulk.ts). */
  bulk: (lines: AsyncIterable<string>) => AsyncIterable<BulkResult>;
  log: (line: string) => void;
  tty: boolean;
}

export interface ScreenInput {
  kind?: string;
  value?: string;
  network?: string;
  fingerprint?: string;
}

const HEADER = ['input', 'kind', 'network', 'normalized', 'valid', 'error', 'match', 'matchedVia', 'indicatorId', 'status', 'confidence', 'category'];
/** Rows written to --out at a time at most (the service answers in chunks of 10,000 lines). */
const WRITE_ROWS = 10_000;
/** Request lines per piece of the body handed to the connection. */
const SEND_LINES = 1_000;

/**
 * One row of the input: what is sent for it (one line — or, with --fingerprints, one line per
 * screening key) and how its output row is made from the answers to those lines; or, sending
 * nothing, its output row (refused here).
 */
interface Row {
  send: ScreenInput[];
  row: (answers: BulkResult[]) => string[];
}

const refusedRow = (input: string, kind: string, network: string, error: string, normalized = ''): string[] => [input, kind, network, normalized, 'false', error, 'false', '', '', '', '', ''];

/** A result as a line of the output; `sent` fills what a refused line does not echo. */
function resultRow(r: BulkResult, sent: ScreenInput): string[] {
  const indicator = r.indicator;
  return [
    r.input,
    r.kind ?? sent.kind ?? '',
    r.network ?? sent.network ?? '',
    r.normalized ?? '',
    String(r.valid),
    r.error ?? '',
    String(r.match),
    r.matchedVia ?? '',
    indicator?.id ?? '',
    indicator?.status ?? '',
    indicator?.confidence != null ? String(indicator.confidence) : '',
    indicator?.category ?? '',
  ];
}

/** A row sent as it is: its one answer is its output row. */
const asIs = (input: ScreenInput): Row => ({ send: [input], row: ([answer]) => resultRow(answer, input) });

/**
 * A value screened by fingerprint only (--fingerprints): the value is canonicalised here and its
 * screening keys (its own, then parent domains, a URL's host, a Monero wallet's standard address:
 * libs/canonical `screeningKeys`, the service's own rule) are sent as bare fingerprints. The row
 * is the answer the service gives the value itself: the first key in that order that matches,
 * named by how it matched. The value never leaves this machine.
 */
function byFingerprints(input: ScreenInput): Row {
  const value = input.value ?? '';
  const screened = screeningKeys(input.kind, input.value, input.network);
  if (!screened.ok) return { send: [], row: () => refusedRow(value, input.kind ?? '', input.network ?? '', screened.error) };
  const { indicator, keys } = screened;
  return {
    send: keys.map((k) => ({ fingerprint: k.fingerprint })),
    row: (answers) => {
      const refused = answers.find((a) => !a.valid);
      if (refused) return refusedRow(value, indicator.kind, indicator.network ?? '', refused.error ?? 'refused by the service', indicator.canonical);
      const hit = answers.findIndex((a) => a.match);
      const matched = hit >= 0 ? answers[hit].indicator : null;
      return [
        value,
        indicator.kind,
        indicator.network ?? '',
        indicator.canonical,
        'true',
        '',
        String(hit >= 0),
        hit >= 0 ? keys[hit].via : '',
        matched?.id ?? '',
        matched?.status ?? '',
        matched?.confidence != null ? String(matched.confidence) : '',
        matched?.category ?? '',
      ];
    },
  };
}

/**
 * The rows of a screening file. NDJSON (a first line that is a JSON object): one ScreenInput a
 * line — `{"kind", "value", "network"}` or `{"fingerprint"}` — as POST /v1/screen takes it. CSV:
 * with a header row (a first line naming a `value` column) the columns `value`, `kind` and
 * `network` are found by name, in any order and any case; other columns are ignored. Without
 * one, a line is `value` or `value,network`. A row's kind overrides --kind (an empty one takes
 * it); --network applies to wallet addresses whose row gives none.
 */
function readRows(text: string, options: Pick<ScreenFileOptions, 'input' | 'kind' | 'network' | 'fingerprints'>): Row[] {
  const send = (input: ScreenInput): Row => (options.fingerprints && input.fingerprint === undefined ? byFingerprints(input) : asIs(input));
  if (text.replace(/^\uFEFF/, '').trimStart().startsWith('{')) return readNdjson(text, options, send);
  const rows = parseCsv(text, { bom: true, relaxColumnCount: true, skipEmptyLines: true, trim: true }) as string[][];
  const names = (rows[0] ?? []).map((name) => name.toLowerCase());
  let column = { value: 0, network: 1, kind: -1 };
  if (names.includes('value')) {
    column = { value: names.indexOf('value'), network: names.indexOf('network'), kind: names.indexOf('kind') };
    rows.shift();
  } else if (names.includes('kind') || names.includes('network')) {
    throw new ResumeError(`${options.input}: the header row has no value column (columns read: value, kind, network, in any order)`);
  }
  return rows.map((row) => {
    const value = row[column.value] ?? '';
    const given = column.kind >= 0 ? (row[column.kind] ?? '') : '';
    const kind = given === '' ? options.kind : given.toUpperCase();
    const network = (column.network >= 0 ? row[column.network] : undefined) || (kind === 'WALLET_ADDRESS' ? options.network : undefined) || undefined;
    if (!(INDICATOR_KINDS as readonly string[]).includes(kind)) {
      const error = `kind: "${given.slice(0, 32)}" in the kind column is not one of ${INDICATOR_KINDS.join(', ')} (UNSUPPORTED_KIND)`;
      return { send: [], row: () => refusedRow(value, given, network ?? '', error) };
    }
    return send({ kind, value, ...(network ? { network } : {}) });
  });
}

/**
 * NDJSON rows: each line's kind, value and network, or fingerprint, as the service reads them
 * (other fields ignored; --kind and --network fill a line that gives none). A line that is not a
 * JSON object is that row's error.
 */
function readNdjson(text: string, options: Pick<ScreenFileOptions, 'kind' | 'network' | 'fingerprints'>, send: (input: ScreenInput) => Row): Row[] {
  const rows: Row[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        o = undefined;
      }
      if (typeof o !== 'object' || o === null || Array.isArray(o)) {
        const error = `line ${i + 1}: not a JSON object (one ScreenInput a line: {"kind", "value", "network"} or {"fingerprint"})`;
        rows.push({ send: [], row: () => refusedRow(line.trim().slice(0, 200), '', '', error) });
        return;
      }
      const { kind, value, network, fingerprint } = o as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' ? v : v == null ? undefined : JSON.stringify(v));
      if (fingerprint != null) {
        if (options.fingerprints && (kind != null || value != null || network != null)) {
          // --fingerprints sends nothing but fingerprints: refused here, in the service's words.
          rows.push({ send: [], row: () => refusedRow(str(fingerprint) ?? '', '', '', 'fingerprint: give a fingerprint alone, or kind and value without it') });
          return;
        }
        // As given: the service names what is wrong with it (a fingerprint with a value, say).
        rows.push(asIs({ fingerprint: str(fingerprint), ...(kind != null ? { kind: str(kind) } : {}), ...(value != null ? { value: str(value) } : {}), ...(network != null ? { network: str(network) } : {}) }));
        return;
      }
      const k = str(kind) ?? options.kind;
      const n = str(network) ?? (k.toUpperCase() === 'WALLET_ADDRESS' ? options.network : undefined);
      rows.push(send({ kind: k, value: str(value) ?? '', ...(n ? { network: n } : {}) }));
    });
  return rows;
}

/**
 * `cordon screen --in values.csv --out results.csv`: the rows (readRows) are screened through
 * POST /v1/screen, --batch rows a call, each call's lines streamed to the service while its
 * answers stream back; results are appended as they arrive, so an interrupted run resumes where
 * it stopped: rows already in --out are not screened again — once the output's first line proves
 * it was made from this very input (resumable.ts); a torn last row is dropped and screened again.
 * A row whose kind is not a kind gets its error line; it is never skipped.
 */
export async function screenFile(options: ScreenFileOptions): Promise<{ screened: number; matches: number; skipped: number }> {
  const input = await readInput(options.input);
  const rows = readRows(input.bytes.toString('utf8'), options);

  // The output proves which input it continues; rows already there are not screened again.
  const out = await openResumable(options.output, 'screen', input, HEADER);
  if (out.repaired) options.log(out.repaired);
  if (out.done.length > rows.length) throw new ResumeError(`${options.output} has more rows (${out.done.length}) than ${options.input} has values (${rows.length})`);
  const skipped = out.done.length;
  if (skipped > 0) options.log(`resuming: ${skipped} of ${rows.length} values already screened in ${options.output}`);

  const bar = options.tty
    ? new cliProgress.SingleBar({ format: 'screening [{bar}] {value}/{total} | {rate} values/s | ETA {eta_formatted} | {matches} matches', etaBuffer: 5 }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(rows.length, skipped, { rate: 0, matches: 0 });
  const started = Date.now();
  let matches = 0;
  let position = skipped;
  const stop = () => {
    bar?.stop();
    options.log(`stopped: ${position} of ${rows.length} values screened (in ${options.output}); run the same command again to resume`);
    process.exit(130);
  };
  process.once('SIGINT', stop);

  let written: string[][] = [];
  const flush = async () => {
    if (written.length === 0) return;
    const batch = written;
    written = [];
    await out.append(batch);
    position += batch.length;
    matches += batch.filter((r) => r[6] === 'true').length;
    const rate = Math.round((position - skipped) / Math.max(0.001, (Date.now() - started) / 1000));
    if (bar) bar.update(position, { rate, matches });
    else options.log(`screened ${position}/${rows.length} (${rate} values/s, ${matches} matches so far)`);
  };
  const every = Math.min(options.batch, WRITE_ROWS);
  try {
    for (let from = skipped; from < rows.length; from += options.batch) {
      const call = rows.slice(from, from + options.batch);
      const lines = call.reduce((n, r) => n + r.send.length, 0);
      // Rows that send nothing are written in their place; a call is made only if any sends.
      const answers = lines > 0 ? options.bulk(body(call))[Symbol.asyncIterator]() : undefined;
      let received = 0;
      for (const r of call) {
        const got: BulkResult[] = [];
        for (let i = 0; i < r.send.length; i++) {
          const next = await answers!.next();
          if (next.done) throw new Error(`the service answered ${received} results for the ${lines} lines sent`);
          received++;
          if (next.value.line !== received) throw new Error(`the service answered line ${next.value.line} where line ${received} was expected`);
          got.push(next.value);
        }
        written.push(r.row(got));
        if (written.length >= every) await flush();
      }
      if (answers && !(await answers.next()).done) throw new Error(`the service answered more results than the ${lines} lines sent`);
      await flush();
    }
  } catch (err) {
    // What was answered is kept: the next run resumes after it.
    await flush().catch(() => undefined);
    bar?.stop();
    if (err instanceof Error) err.message += ` — stopped: ${position} of ${rows.length} values screened (in ${options.output}); run the same command again to resume`;
    throw err;
  } finally {
    process.removeListener('SIGINT', stop);
  }
  bar?.stop();
  return { screened: rows.length - skipped, matches, skipped };
}

/** The NDJSON lines of a call's rows, in pieces of SEND_LINES lines, made only as the connection takes them. */
async function* body(rows: Row[]): AsyncGenerator<string> {
  let piece = '';
  let n = 0;
  for (const r of rows) {
    for (const input of r.send) {
      piece += JSON.stringify(input) + '\n';
      if (++n % SEND_LINES === 0) {
        yield piece;
        piece = '';
      }
    }
  }
  if (piece !== '') yield piece;
}
