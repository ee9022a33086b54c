import { runAuditBench } from './audit.bench.js';
import { runCanonicalBench } from './canonical.bench.js';
import { runIngestBench } from './ingest.bench.js';
import { runScreeningBench } from './screening.bench.js';
import { runSoakBench } from './soak.bench.js';

/** `npm run bench [name …]`: runs the named benchmarks (all when none is named). */
const BENCHES: Record<string, () => void | Promise<void>> = {
  canonical: runCanonicalBench,
  ingest: runIngestBench,
  screening: runScreeningBench,
  audit: runAuditBench,
  soak: runSoakBench,
};

const wanted = process.argv.slice(2);
// soak runs only when named (npm run bench:soak): ten minutes.
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES).filter((b) => b !== 'soak')) {
  const bench = BENCHES[name];
  if (!bench) {
    process.stderr.write(`unknown benchmark ${name} (have: ${Object.keys(BENCHES).join(', ')})\n`);
    process.exit(2);
  }
  await bench();
}
