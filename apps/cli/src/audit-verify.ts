import cliProgress from 'cli-progress';
import pg from 'pg';
import { type VerifyReport, verifyAuditLog } from '@app/audit';

export interface AuditVerifyOptions {
  /** --database-url, else DATABASE_URL */
  databaseUrl?: string;
  /** show a progress bar on stderr */
  tty: boolean;
  /** the report lines (stdout) */
  out: (line: string) => void;
  /** errors (stderr) */
  err: (line: string) => void;
  /** events per query */
  chunk?: number;
}

/** The summary lines of a report: one line when it passed, the index and the problems when not. */
export function formatReport(report: VerifyReport): string[] {
  if (report.ok) return [`audit log verified: ${report.events} events, ${report.nodes} nodes, ${report.checkpoints} checkpoints`];
  const lines = [`audit log verification FAILED${report.firstBadIndex === null ? '' : ` at index ${report.firstBadIndex}`}`];
  for (const p of report.problems) lines.push(`  ${p.index === null ? '-' : `index ${p.index}`}: ${p.what}`);
  if (report.problemCount > report.problems.length) lines.push(`  … and ${report.problemCount - report.problems.length} more problems`);
  lines.push(`(read ${report.events} events, ${report.nodes} nodes, ${report.checkpoints} checkpoints)`);
  return lines;
}

/**
 * `cordon audit verify`: checks the audit log in the database against its own Merkle tree and
 * signed checkpoints (SPEC 6). Returns the exit code: 0 verified, 1 a problem found, 2 the
 * database could not be read (or no URL).
 */
export async function auditVerify(options: AuditVerifyOptions): Promise<number> {
  if (!options.databaseUrl) {
    options.err('cordon: audit verify needs the database: pass --database-url <url> or set DATABASE_URL');
    return 2;
  }
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'cordon audit verify' });
  const bar = options.tty
    ? new cliProgress.SingleBar({ format: 'verifying [{bar}] {value}/{total} events | ETA {eta_formatted}', etaBuffer: 10, stream: process.stderr }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  let report: VerifyReport;
  try {
    await client.connect();
    report = await verifyAuditLog(client, {
      chunk: options.chunk,
      onProgress: (checked, total) => {
        if (!bar) return;
        if (!started) bar.start(Math.max(total, checked), checked);
        else bar.setTotal(Math.max(total, checked));
        started = true;
        bar.update(checked);
      },
    });
  } catch (err) {
    if (started) bar?.stop();
    options.err(`cordon: audit verify: cannot read the audit log: ${(err as Error).message}`);
    return 2;
  } finally {
    await client.end().catch(() => undefined);
  }
  if (started) bar?.stop();
  for (const line of formatReport(report)) options.out(line);
  return report.ok ? 0 : 1;
}
