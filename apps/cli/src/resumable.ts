import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

/** Refused resume: the output file belongs to another input or tool. */
export class ResumeError extends Error {}

export interface InputFile {
  path: string;
  bytes: Buffer;
}

export async function readInput(path: string): Promise<InputFile> {
  try {
    return { path, bytes: await fs.readFile(path) };
  } catch (err) {
    throw new ResumeError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/**
 * The first line of a resumable output: which tool wrote it and exactly which input it is for
 * (size and SHA-256 of the whole input file), so a later run can prove it continues the same
 * input before it skips anything.
 */
function identityLine(tool: string, input: InputFile): string {
  return `# cordon ${tool} input-bytes=${input.bytes.length} input-sha256=${sha256(input.bytes)}\n`;
}

export interface Resumable {
  /** data rows already in the output (after its identity line and column header), in order */
  done: string[][];
  /** appends rows (one write, so a crash tears at most the last row, which the next run drops) */
  append(rows: string[][]): Promise<void>;
  /** what was repaired on opening, for the log */
  repaired?: string;
}

/**
 * Opens `output` for `input`: a new file gets the identity line and the column header; an
 * existing one must carry the same tool and the same input's size and SHA-256 — otherwise the
 * run is refused (ResumeError) rather than trusting rows that belong to something else. A torn
 * last row (no final newline: the process died mid-write) is cut off and done again.
 */
export async function openResumable(output: string, tool: string, input: InputFile, columns: string[]): Promise<Resumable> {
  const identity = identityLine(tool, input);
  const append = async (rows: string[][]) => {
    if (rows.length > 0) await fs.appendFile(output, stringify(rows));
  };
  if (!existsSync(output)) {
    await fs.writeFile(output, identity + stringify([columns]), { flag: 'wx' });
    return { done: [], append };
  }
  let text = await fs.readFile(output, 'utf8');
  const firstLine = text.slice(0, text.indexOf('\n') + 1);
  if (!firstLine.startsWith(`# cordon ${tool} `)) {
    throw new ResumeError(`${output} exists but was not written by \`cordon ${tool}\` (its first line is not "# cordon ${tool} …"): pass another --out, or remove it`);
  }
  if (firstLine !== identity) {
    const [, bytes, hash] = /input-bytes=(\d+) input-sha256=([0-9a-f]+)/.exec(firstLine) ?? [];
    throw new ResumeError(
      `${output} holds the results of another input (${bytes ?? '?'} bytes, SHA-256 ${hash?.slice(0, 16) ?? '?'}…), not of ${input.path} (${input.bytes.length} bytes, SHA-256 ${sha256(input.bytes).slice(0, 16)}…): ` +
        `resume with the input it was made from, or pass a new --out`,
    );
  }
  let repaired: string | undefined;
  if (!text.endsWith('\n')) {
    const cut = text.lastIndexOf('\n') + 1;
    repaired = `dropped a torn last row of ${output} (${text.length - cut} bytes written when the last run stopped); it is done again`;
    text = text.slice(0, cut);
    await fs.truncate(output, Buffer.byteLength(text, 'utf8'));
  }
  const rows = parseCsv(text.slice(firstLine.length), { relaxColumnCount: true, skipEmptyLines: true }) as string[][];
  if (rows.length === 0 || rows[0].join(',') !== columns.join(',')) {
    throw new ResumeError(`${output}: the column header is not ${columns.join(',')}; pass another --out`);
  }
  return { done: rows.slice(1), append, repaired };
}
