import { existsSync, promises as fs } from 'node:fs';
import canonicalize from 'canonicalize';
import cliProgress from 'cli-progress';
import { parse as parseCsv } from 'csv-parse/sync';
import { sha256Hex } from '@app/canonical';
import { type PrivateJwk, signStatement } from '@app/signing';
import { StatementRefusal, validateClaims } from '@app/statements';
import { openResumable, readInput, ResumeError } from './resumable.js';

/** Claims a row asks for, before the issuer, issue time and jti are added. */
export interface RowClaims {
  indicator: { kind: string; network?: string; value: string };
  category: string;
  confidence: number;
  tlp: string;
  shareWith?: string[];
  evidence?: { sites?: string[]; reference?: string; observedAt?: string };
  exp?: number;
  jti?: string;
}

export interface ClaimDefaults {
  category?: string;
  confidence?: number;
  tlp?: string;
}

/** A row that cannot become a statement: its line and why (named like the server's refusals). */
class RowError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const list = (text: string | undefined) =>
  (text ?? '')
    .split(/[|\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);

/** CSV columns `cordon submit` reads (any order; unknown columns are refused, naming them). */
export const CSV_COLUMNS = ['kind', 'network', 'value', 'category', 'confidence', 'tlp', 'share_with', 'sites', 'reference', 'observed_at', 'exp', 'jti'];

function fromCsv(record: Record<string, string>, defaults: ClaimDefaults): RowClaims {
  const get = (k: string) => (record[k] ?? '').trim() || undefined;
  const confidence = get('confidence') ?? (defaults.confidence === undefined ? undefined : String(defaults.confidence));
  const exp = get('exp');
  const sites = list(get('sites'));
  const reference = get('reference');
  const observedAt = get('observed_at');
  return {
    indicator: { kind: get('kind') ?? '', ...(get('network') ? { network: get('network') } : {}), value: get('value') ?? '' },
    category: get('category') ?? defaults.category ?? '',
    // Not a number: kept as given, so the claim rules name it (NaN could not be canonicalised for the jti).
    confidence: (confidence !== undefined && /^-?\d+$/.test(confidence) ? Number(confidence) : confidence) as number,
    tlp: get('tlp') ?? defaults.tlp ?? '',
    ...(get('share_with') ? { shareWith: list(get('share_with')) } : {}),
    ...(sites.length || reference || observedAt ? { evidence: { ...(sites.length ? { sites } : {}), ...(reference ? { reference } : {}), ...(observedAt ? { observedAt } : {}) } } : {}),
    ...(exp ? { exp: (/^\d+$/.test(exp) ? Number(exp) : Number.isNaN(Date.parse(exp)) ? exp : Math.floor(Date.parse(exp) / 1000)) as number } : {}),
    ...(get('jti') ? { jti: get('jti') } : {}),
  };
}

function fromJson(value: unknown, defaults: ClaimDefaults): RowClaims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RowError('BAD_CLAIMS', 'claims: each line must be a JSON object');
  const v = value as Record<string, unknown>;
  for (const forbidden of ['iss', 'iat']) {
    if (forbidden in v) throw new RowError('BAD_CLAIMS', `claims.${forbidden}: set by cordon submit (your principal, the signing time); leave it out`);
  }
  return { category: defaults.category, confidence: defaults.confidence, tlp: defaults.tlp, ...v } as RowClaims;
}

/** The rows of a statements file: NDJSON (`.ndjson`, `.jsonl`, or a first line starting `{`) or CSV with a header row. */
type Row = { line: number; claims?: RowClaims; error?: RowError };

export function readRows(text: string, defaults: ClaimDefaults): Row[] {
  const trimmed = text.trimStart();
  const looksJson = trimmed.startsWith('{');
  if (looksJson) {
    return text.split('\n').flatMap((raw, i): Row[] => {
      if (raw.trim() === '') return [];
      try {
        return [{ line: i + 1, claims: fromJson(JSON.parse(raw), defaults) }];
      } catch (err) {
        return [{ line: i + 1, error: err instanceof RowError ? err : new RowError('MALFORMED', `line ${i + 1}: not JSON`) }];
      }
    });
  }
  const records = parseCsv(text, { columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skipEmptyLines: true, relaxColumnCount: true, info: true }) as {
    record: Record<string, string>;
    info: { lines: number };
  }[];
  const unknown = records.length > 0 ? Object.keys(records[0].record).filter((c) => !CSV_COLUMNS.includes(c)) : [];
  if (unknown.length > 0) throw new ResumeError(`unknown column ${JSON.stringify(unknown[0])} in the CSV header (columns: ${CSV_COLUMNS.join(', ')})`);
  return records.map((r) => ({ line: r.info.lines, claims: fromCsv(r.record, defaults) }));
}

/**
 * The jti of a row: given in the row, or derived from the issuer and everything the row says
 * (not the signing time), so the same row gets the same jti on every run and the service never
 * takes it twice.
 */
export function rowJti(iss: string, claims: RowClaims): string {
  if (claims.jti) return claims.jti;
  return `row-${sha256Hex(canonicalize({ iss, ...claims }) ?? '').slice(0, 40)}`;
}

export const OUTCOME_COLUMNS = ['line', 'jti', 'ok', 'code', 'error', 'indicator_id', 'statement_id', 'receipt'];

export interface SubmitOptions {
  input: string;
  output: string;
  iss: string;
  key: PrivateJwk;
  batch: number;
  defaults: ClaimDefaults;
  /** one submitStatements call; outcomes in order */
  submit: (jws: string[]) => Promise<{ ok: boolean; code: string | null; error: string | null; result: { receipt: string; indicator: { id: string }; statement: { id: string } } | null }[]>;
  log: (line: string) => void;
  tty: boolean;
}

/**
 * `cordon submit`: signs each row locally and sends them in batches through submitStatements.
 * Every row gets one line in --out (its outcome: code, error, ids, receipt), appended batch by
 * batch; a run resumes where the last stopped, once --out proves it is for this input. Each JWS
 * is kept in `<out>.jws` before it is sent, so a batch cut off mid-flight is sent again with the
 * very same bytes — which the service answers with the first result (SPEC 4 idempotency), never
 * a second statement.
 */
export async function submitFile(options: SubmitOptions): Promise<{ accepted: number; refused: number; skipped: number; codes: Record<string, number> }> {
  const input = await readInput(options.input);
  const rows = readRows(input.bytes.toString('utf8'), options.defaults);
  const out = await openResumable(options.output, 'submit', input, OUTCOME_COLUMNS);
  if (out.repaired) options.log(out.repaired);
  if (out.done.length > rows.length) throw new ResumeError(`${options.output} has more rows (${out.done.length}) than ${options.input} has statements (${rows.length})`);

  // The signed statements of earlier runs, by jti (a torn last line is ignored: that row is signed again).
  const journal = `${options.output}.jws`;
  const signed = new Map<string, string>();
  if (existsSync(journal)) {
    for (const line of (await fs.readFile(journal, 'utf8')).split('\n')) {
      try {
        const { jti, jws } = JSON.parse(line) as { jti: string; jws: string };
        if (typeof jti === 'string' && typeof jws === 'string') signed.set(jti, jws);
      } catch {
        // torn or empty line
      }
    }
  }
  const skipped = out.done.length;
  if (skipped > 0) options.log(`resuming: ${skipped} of ${rows.length} statements already have an outcome in ${options.output}`);
  const codes: Record<string, number> = {};
  let accepted = 0;
  let refused = 0;
  for (const row of out.done) {
    if (row[2] === 'true') accepted++;
    else {
      refused++;
      codes[row[3]] = (codes[row[3]] ?? 0) + 1;
    }
  }
  const bar = options.tty
    ? new cliProgress.SingleBar({ format: 'submitting [{bar}] {value}/{total} | {accepted} accepted, {refused} refused | ETA {eta_formatted}' }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(rows.length, skipped, { accepted, refused });
  let position = skipped;
  const stop = () => {
    bar?.stop();
    options.log(`stopped: ${position} of ${rows.length} statements have an outcome (in ${options.output}); run the same command again to resume`);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  try {
    for (let i = skipped; i < rows.length; i += options.batch) {
      const batch = rows.slice(i, i + options.batch);
      const now = Math.floor(Date.now() / 1000);
      // Sign what is valid here (the service's own claim rules); refuse the rest without sending.
      const prepared = await Promise.all(
        batch.map(async (row) => {
          if (row.error) return { row, jti: '', error: row.error };
          const jti = rowJti(options.iss, row.claims!);
          try {
            const known = signed.get(jti);
            if (known) return { row, jti, jws: known };
            const claims = { ...row.claims!, jti, iss: options.iss, iat: now };
            validateClaims(claims, now);
            return { row, jti, jws: await signStatement(options.key as unknown as Parameters<typeof signStatement>[0], claims), fresh: true };
          } catch (err) {
            if (err instanceof StatementRefusal) return { row, jti, error: new RowError(err.code, err.message) };
            throw err;
          }
        }),
      );
      const fresh = prepared.filter((p) => p.fresh && p.jws);
      if (fresh.length > 0) {
        await fs.appendFile(journal, fresh.map((p) => JSON.stringify({ jti: p.jti, jws: p.jws }) + '\n').join(''), { mode: 0o600 });
        for (const p of fresh) signed.set(p.jti, p.jws!);
      }
      const toSend = prepared.filter((p) => p.jws);
      const answers = toSend.length > 0 ? await options.submit(toSend.map((p) => p.jws!)) : [];
      const byRow = new Map(toSend.map((p, n) => [p, answers[n]]));
      const lines = prepared.map((p) => {
        const answer = byRow.get(p);
        if (!answer) {
          refused++;
          codes[p.error!.code] = (codes[p.error!.code] ?? 0) + 1;
          return [String(p.row.line), p.jti, 'false', p.error!.code, p.error!.message, '', '', ''];
        }
        if (answer.ok) accepted++;
        else {
          refused++;
          codes[answer.code ?? 'ERROR'] = (codes[answer.code ?? 'ERROR'] ?? 0) + 1;
        }
        return [String(p.row.line), p.jti, String(answer.ok), answer.code ?? '', answer.error ?? '', answer.result?.indicator.id ?? '', answer.result?.statement.id ?? '', answer.result?.receipt ?? ''];
      });
      await out.append(lines);
      position = i + batch.length;
      if (bar) bar.update(position, { accepted, refused });
      else options.log(`submitted ${position}/${rows.length} (${accepted} accepted, ${refused} refused)`);
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }
  bar?.stop();
  return { accepted, refused, skipped, codes };
}
