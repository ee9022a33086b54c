import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';

/** One page of the `changes` query, as `cordon sync` asks for it. */
export interface ChangePage {
  edges: { cursor: string; node: { indicator: { fingerprint: string; status: string } | null } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface SyncOptions {
  dir: string;
  page: (after: string | null) => Promise<ChangePage>;
}

const MATCHING = new Set(['ACTIVE', 'DISPUTED']);

/**
 * `cordon sync --out dir`: keeps `dir/fingerprints.txt` (one visible ACTIVE or DISPUTED
 * fingerprint a line, sorted) up to date from the change feed, with the feed position in
 * `dir/cursor`; each run reads only what changed since. Both files are replaced atomically.
 */
export async function sync(options: SyncOptions): Promise<{ changes: number; fingerprints: number }> {
  await fs.mkdir(options.dir, { recursive: true });
  const listFile = path.join(options.dir, 'fingerprints.txt');
  const cursorFile = path.join(options.dir, 'cursor');
  const set = new Set(existsSync(listFile) ? (await fs.readFile(listFile, 'utf8')).split('\n').filter(Boolean) : []);
  let after = existsSync(cursorFile) ? (await fs.readFile(cursorFile, 'utf8')).trim() || null : null;
  let changes = 0;
  for (;;) {
    const { edges, pageInfo } = await options.page(after);
    for (const { node } of edges) {
      changes++;
      if (!node.indicator) continue;
      if (MATCHING.has(node.indicator.status)) set.add(node.indicator.fingerprint);
      else set.delete(node.indicator.fingerprint);
    }
    if (pageInfo.endCursor) after = pageInfo.endCursor;
    if (!pageInfo.hasNextPage) break;
  }
  const write = async (file: string, text: string) => {
    await fs.writeFile(`${file}.tmp`, text);
    await fs.rename(`${file}.tmp`, file);
  };
  await write(listFile, [...set].sort().join('\n') + (set.size ? '\n' : ''));
  if (after) await write(cursorFile, after + '\n');
  return { changes, fingerprints: set.size };
}
