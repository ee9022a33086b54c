import { parse as parseCsv } from 'csv-parse/sync';
import cliProgress from 'cli-progress';
import { INDICATOR_KINDS } from '@app/canonical';
import { openResumable, readInput, ResumeError } from './resumable.js';

export interface ScreenFileOptions {
  input: string;
  output: string;
  /** kind of a value whose row names none */
  kind: string;
  /** network of a wallet address whose row names none */
  network?: string;
  batch: number;
  /** Runs one screenBatch call; returns the results in input order. */
  screenBatch: (inputs: ScreenInput[]) => Promise<ScreenRow[]>;
  log: (line: string) => void;
  tty: boolean;
}

export interface ScreenInput {
  kind: string;
  value: string;
  network?: string;
}

export interface ScreenRow {
  input: string;
  kind: string | null;
  network: string | null;
  normalized: string | null;
  valid: boolean;
  error: string | null;
  match: boolean;
  matchedVia: string | null;
  indicator: { id: string; status: string; confidence: number; category: string } | null;
}

const HEADER = ['input', 'kind', 'network', 'normalized', 'valid', 'error', 'match', 'matchedVia', 'indicatorId', 'status', 'confidence', 'category'];

/** One line of the input: sent to screenBatch, or refused here (a kind the service has no name for). */
type Line = { send: ScreenInput } | { refused: string[] };

/**
 * The values of a screening file. With a header row (a first line naming a `value` column) the
 * columns `value`, `kind` and `network` are found by name, in any order and any case; other
 * columns are ignored. Without one, a line is `value` or `value,network`. A row's kind overrides
 * --kind (an empty one takes it); --network applies to wallet addresses whose row gives none.
 */
function readLines(text: string, options: Pick<ScreenFileOptions, 'input' | 'kind' | 'network'>): Line[] {
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
      return { refused: [value, given, network ?? '', '', 'false', error, 'false', '', '', '', '', ''] };
    }
    return { send: { kind, value, ...(network ? { network } : {}) } };
  });
}

/** A screenBatch result as a line of the output. */
function resultRow(r: ScreenRow, sent: ScreenInput): string[] {
  const indicator = r.indicator;
  return [
    r.input,
    r.kind ?? sent.kind,
    r.network ?? sent.network ?? '',
    r.normalized ?? '',
    String(r.valid),
    r.error ?? '',
    String(r.match),
    r.matchedVia ?? '',
    indicator?.id ?? '',
    indicator?.status ?? '',
    indicator ? String(indicator.confidence) : '',
    indicator?.category ?? '',
  ];
}

/**
 * `cordon screen --in values.csv --out results.csv`: the input is a CSV with a header naming its
 * `value`, `kind` and `network` columns, or one value a line, optionally `value,network`
 * (readLines). Results are appended batch by batch, so an interrupted run resumes where it
 * stopped: rows already in --out are not screened again — once the output's first line proves
 * it was made from this very input (resumable.ts); a torn last row is dropped and screened again.
 * A row whose kind is not a kind gets its error line; it is never skipped.
 */
export async function screenFile(options: ScreenFileOptions): Promise<{ screened: number; matches: number; skipped: number }> {
  const input = await readInput(options.input);
  const inputs = readLines(input.bytes.toString('utf8'), options);

  // The output proves which input it continues; rows already there are not screened again.
  const out = await openResumable(options.output, 'screen', input, HEADER);
  if (out.repaired) options.log(out.repaired);
  if (out.done.length > inputs.length) throw new ResumeError(`${options.output} has more rows (${out.done.length}) than ${options.input} has values (${inputs.length})`);
  const skipped = out.done.length;
  if (skipped > 0) options.log(`resuming: ${skipped} of ${inputs.length} values already screened in ${options.output}`);

  const bar = options.tty
    ? new cliProgress.SingleBar({ format: 'screening [{bar}] {value}/{total} | {rate} values/s | ETA {eta_formatted} | {matches} matches', etaBuffer: 5 }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(inputs.length, skipped, { rate: 0, matches: 0 });
  const started = Date.now();
  let matches = 0;
  let position = skipped;
  const stop = () => {
    bar?.stop();
    options.log(`stopped: ${position} of ${inputs.length} values screened (in ${options.output}); run the same command again to resume`);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  try {
    for (let i = skipped; i < inputs.length; i += options.batch) {
      const batch = inputs.slice(i, i + options.batch);
      const sent = batch.flatMap((line) => ('send' in line ? [line.send] : []));
      const results = sent.length > 0 ? await options.screenBatch(sent) : [];
      if (results.length !== sent.length) throw new Error(`screenBatch answered ${results.length} results for ${sent.length} inputs`);
      matches += results.filter((r) => r.match).length;
      let next = 0;
      await out.append(
        batch.map((line) => {
          if ('refused' in line) return line.refused;
          const row = resultRow(results[next], sent[next]);
          next++;
          return row;
        }),
      );
      position = i + batch.length;
      const rate = Math.round((position - skipped) / Math.max(0.001, (Date.now() - started) / 1000));
      if (bar) bar.update(position, { rate, matches });
      else options.log(`screened ${position}/${inputs.length} (${rate} values/s, ${matches} matches so far)`);
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
  bar?.stop();
  return { screened: inputs.length - skipped, matches, skipped };
}
