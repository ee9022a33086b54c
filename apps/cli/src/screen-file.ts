import { parse as parseCsv } from 'csv-parse/sync';
import cliProgress from 'cli-progress';
import { openResumable, readInput, ResumeError } from './resumable.js';

export interface ScreenFileOptions {
  input: string;
  output: string;
  kind: string;
  network?: string;
  batch: number;
  /** Runs one screenBatch call; returns the results in input order. */
  screenBatch: (inputs: { kind: string; value: string; network?: string }[]) => Promise<ScreenRow[]>;
  log: (line: string) => void;
  tty: boolean;
}

export interface ScreenRow {
  input: string;
  valid: boolean;
  error: string | null;
  match: boolean;
  matchedVia: string | null;
  indicator: { id: string; status: string } | null;
}

const HEADER = ['input', 'network', 'valid', 'error', 'match', 'matchedVia', 'indicatorId', 'status'];

/**
 * `cordon screen --in values.csv --out results.csv`: the input is one value a line, optionally
 * `value,network` (a first line `value,…` is a header). Results are appended batch by batch, so an
 * interrupted run resumes where it stopped: rows already in --out are not screened again — once
 * the output's first line proves it was made from this very input (resumable.ts); a torn last
 * row is dropped and screened again.
 */
export async function screenFile(options: ScreenFileOptions): Promise<{ screened: number; matches: number; skipped: number }> {
  const input = await readInput(options.input);
  const rows = parseCsv(input.bytes.toString('utf8'), { relaxColumnCount: true, skipEmptyLines: true, trim: true }) as string[][];
  if (rows.length > 0 && rows[0][0]?.toLowerCase() === 'value') rows.shift();
  const inputs = rows.map(([value, network]) => ({ kind: options.kind, value, network: network || options.network || undefined }));

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
      const results = await options.screenBatch(batch);
      matches += results.filter((r) => r.match).length;
      await out.append(
        results.map((r, n) => [r.input, batch[n].network ?? '', String(r.valid), r.error ?? '', String(r.match), r.matchedVia ?? '', r.indicator?.id ?? '', r.indicator?.status ?? '']),
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
