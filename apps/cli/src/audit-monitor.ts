import { promises as fs } from 'node:fs';
import { fromHex, verifyConsistency } from '@app/merkle';
import * as jose from 'jose';

export interface SignedCheckpoint {
  treeSize: number;
  rootHash: string;
  issuedAt: string;
  signature: string;
}

export interface MonitorDeps {
  /** runs a GraphQL query signed by the member's key */
  graphql(query: string, variables?: Record<string, unknown>): Promise<any>;
  /** the service's /.well-known/jwks.json */
  jwks(): Promise<jose.JSONWebKeySet>;
}

export type MonitorOutcome =
  | { ok: true; message: string; checkpoint: SignedCheckpoint }
  | { ok: false; message: string; evidence?: { seen: SignedCheckpoint; now: SignedCheckpoint } };

/** A checkpoint is worth remembering only if the exchange key signed exactly these values. */
async function checkSignature(c: SignedCheckpoint, jwks: jose.JSONWebKeySet): Promise<string | null> {
  try {
    const { payload, protectedHeader } = await jose.compactVerify(c.signature, jose.createLocalJWKSet(jwks));
    const signed = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (protectedHeader.typ !== 'cordon-checkpoint+jwt') return `the signature's typ is ${String(protectedHeader.typ)}, not cordon-checkpoint+jwt`;
    if (signed.treeSize !== c.treeSize || signed.rootHash !== c.rootHash || signed.issuedAt !== c.issuedAt) {
      return 'the signed payload does not match the checkpoint returned';
    }
    return null;
  } catch (err) {
    return `the checkpoint's signature does not verify with the exchange's published keys (${(err as Error).message})`;
  }
}

/**
 * `cordon audit monitor --state file`: what a member runs on a schedule. Fetches the current
 * checkpoint, checks its signature, and — against the last checkpoint it saw (kept in the state
 * file) — that the log only grew: never smaller, never a different root at the same size, and a
 * consistency proof from the old size to the new one that verifies (RFC 9162 2.1.4.2). The state
 * moves forward only when all of that holds; two conflicting signed checkpoints are kept as
 * evidence beside it.
 */
export async function auditMonitor(stateFile: string, deps: MonitorDeps): Promise<MonitorOutcome> {
  const now = (await deps.graphql('{ auditCheckpoint { treeSize rootHash issuedAt signature } }')).auditCheckpoint as SignedCheckpoint;
  const jwks = await deps.jwks();
  const badSignature = await checkSignature(now, jwks);
  if (badSignature) return { ok: false, message: badSignature };

  let seen: SignedCheckpoint | undefined;
  try {
    seen = JSON.parse(await fs.readFile(stateFile, 'utf8')) as SignedCheckpoint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { ok: false, message: `cannot read the state file ${stateFile}: ${(err as Error).message}` };
  }
  const fork = (message: string): MonitorOutcome => ({ ok: false, message, evidence: seen && { seen, now } });
  if (seen) {
    if (now.treeSize < seen.treeSize) return fork(`the log SHRANK: ${seen.treeSize} events before, ${now.treeSize} now`);
    if (now.treeSize === seen.treeSize && now.rootHash !== seen.rootHash) {
      return fork(`the log FORKED: size ${now.treeSize} had root ${seen.rootHash}, now ${now.rootHash}`);
    }
    if (now.treeSize > seen.treeSize) {
      const proof = (
        await deps.graphql('query($m: BigInt!, $n: BigInt!) { auditConsistencyProof(fromSize: $m, toSize: $n) { fromSize toSize path } }', {
          m: seen.treeSize,
          n: now.treeSize,
        })
      ).auditConsistencyProof as { path: string[] };
      const ok = verifyConsistency(seen.treeSize, now.treeSize, proof.path.map(fromHex), fromHex(seen.rootHash), fromHex(now.rootHash));
      if (!ok) return fork(`the log FORKED: no valid consistency proof from size ${seen.treeSize} to ${now.treeSize}`);
    }
  }
  const tmp = `${stateFile}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(now, null, 2) + '\n');
  await fs.rename(tmp, stateFile);
  const grew = seen ? `grew consistently from ${seen.treeSize} to ${now.treeSize} events` : `first checkpoint recorded: ${now.treeSize} events`;
  return { ok: true, message: `audit log ${grew}; root ${now.rootHash}`, checkpoint: now };
}
