import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  appendLeaves,
  consistencyProofRanges,
  decodeFrontier,
  encodeFrontier,
  type Frontier,
  frontierRoot,
  inclusionProofRanges,
  type NodeId,
  nodeKey,
  proveWith,
  toHex,
} from '@app/merkle';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { ExchangeKeyService } from '../exchange-key/exchange-key.service.js';

/** Leaves integrated per transaction. */
const CHUNK = 50_000;
/** A checkpoint of an unchanged tree is reused for this long instead of signing another. */
const CHECKPOINT_REUSE_MS = 10_000;
/** How often the tree catches up on its own (queries catch up first anyway). */
const INTEGRATE_EVERY_MS = 500;

export const CHECKPOINT_TYP = 'cordon-checkpoint+jwt';

export interface Checkpoint {
  treeSize: number;
  rootHash: string;
  issuedAt: string;
  signature: string;
}

/**
 * The Merkle tree over the audit log (RFC 9162, SPEC 6). Events are sequenced and hashed as they
 * commit (AuditService); this integrates committed leaves into stored subtree hashes — under
 * the audit_tree row lock, so any number of processes may run it — and answers roots, inclusion
 * and consistency proofs at any size from O(log n) stored nodes, and signed checkpoints.
 */
@Injectable()
export class AuditTreeService implements OnApplicationBootstrap, OnApplicationShutdown {
  private running: Promise<Frontier> | null = null;
  private queued: Promise<Frontier> | null = null;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly exchangeKey: ExchangeKeyService,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.integrate().catch(() => undefined), INTEGRATE_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * Integrates every leaf committed before this call; resolves with the tree's frontier. Calls
   * made while a run is in progress share the next run (which starts after theirs were made).
   */
  integrate(): Promise<Frontier> {
    if (!this.running) {
      this.running = this.runToEnd().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    this.queued ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        return this.integrate();
      });
    return this.queued;
  }

  private async runToEnd(): Promise<Frontier> {
    // Usually there is nothing to do: one read, no transaction, no lock.
    const [state] = (await this.dataSource.query('SELECT t.size, t.frontier, h.size AS head FROM audit_tree t, audit_head h')) as {
      size: string;
      frontier: Buffer;
      head: string;
    }[];
    if (Number(state.size) >= Number(state.head)) return decodeFrontier(Number(state.size), state.frontier);
    for (;;) {
      const { frontier, more } = await this.dataSource.transaction((em) => this.integrateChunk(em));
      if (!more) return frontier;
    }
  }

  private async integrateChunk(em: EntityManager): Promise<{ frontier: Frontier; more: boolean }> {
    const [tree] = (await em.query('SELECT size, frontier FROM audit_tree FOR UPDATE')) as { size: string; frontier: Buffer }[];
    const frontier = decodeFrontier(Number(tree.size), tree.frontier);
    // Committed events form a gapless prefix (indexes are taken under a lock held to commit).
    const leaves = (await em.query('SELECT idx, leaf_hash FROM audit_event WHERE idx >= $1 ORDER BY idx LIMIT $2', [frontier.size, CHUNK])) as {
      idx: string;
      leaf_hash: Buffer;
    }[];
    if (leaves.length === 0) return { frontier, more: false };
    leaves.forEach((leaf, i) => {
      if (Number(leaf.idx) !== frontier.size + i) throw new Error(`audit log has a gap at index ${frontier.size + i}: run the verify command`);
    });
    const next = appendLeaves(
      frontier,
      leaves.map((l) => l.leaf_hash),
    );
    if (next.nodes.length > 0) {
      await em.query(`INSERT INTO audit_node (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`, [
        next.nodes.map((n) => n.level),
        next.nodes.map((n) => n.index),
        next.nodes.map((n) => n.hash),
      ]);
    }
    await em.query('UPDATE audit_tree SET size = $1, frontier = $2', [next.frontier.size, encodeFrontier(next.frontier)]);
    return { frontier: next.frontier, more: leaves.length === CHUNK };
  }

  /** A signed checkpoint of the whole log as committed now; every one issued is stored. */
  async checkpoint(): Promise<Checkpoint> {
    const frontier = await this.integrate();
    const rootHash = toHex(frontierRoot(frontier));
    const [recent] = (await this.dataSource.query(
      `SELECT tree_size, root_hash, issued_at, signature FROM audit_checkpoint
        WHERE tree_size = $1 AND issued_at > $2 ORDER BY issued_at DESC LIMIT 1`,
      [frontier.size, new Date(this.clock.now().getTime() - CHECKPOINT_REUSE_MS)],
    )) as { tree_size: string; root_hash: Buffer; issued_at: Date; signature: string }[];
    if (recent && toHex(recent.root_hash) === rootHash) {
      return { treeSize: Number(recent.tree_size), rootHash, issuedAt: recent.issued_at.toISOString(), signature: recent.signature };
    }
    const payload = { treeSize: frontier.size, rootHash, issuedAt: this.clock.now().toISOString() };
    const signature = await this.exchangeKey.sign(payload, CHECKPOINT_TYP);
    await this.dataSource.query(
      `INSERT INTO audit_checkpoint (tree_size, root_hash, issued_at, signature) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [payload.treeSize, Buffer.from(rootHash, 'hex'), payload.issuedAt, signature],
    );
    return { ...payload, signature };
  }

  /** RFC 9162 2.1.3 inclusion proof of leaf `index` in the tree of size `treeSize`. */
  async inclusionProof(index: number, treeSize: number): Promise<{ index: number; treeSize: number; leafHash: string; path: string[] }> {
    whole('index', index, 0);
    whole('treeSize', treeSize, 1);
    if (index >= treeSize) throw CordonException.badInput('index', `must be less than treeSize (${treeSize})`);
    await this.covering('treeSize', treeSize);
    const [path, leaf] = await Promise.all([
      proveWith(inclusionProofRanges(index, treeSize), (ids) => this.fetchNodes(ids)),
      this.fetchNodes([{ level: 0, index }]),
    ]);
    return { index, treeSize, leafHash: toHex(leaf.get(nodeKey({ level: 0, index }))!), path: path.map(toHex) };
  }

  /** RFC 9162 2.1.4 consistency proof between the trees of sizes `fromSize` and `toSize`. */
  async consistencyProof(fromSize: number, toSize: number): Promise<{ fromSize: number; toSize: number; path: string[] }> {
    whole('fromSize', fromSize, 1);
    whole('toSize', toSize, 1);
    if (fromSize > toSize) throw CordonException.badInput('fromSize', `must not exceed toSize (${toSize})`);
    await this.covering('toSize', toSize);
    const path = await proveWith(consistencyProofRanges(fromSize, toSize), (ids) => this.fetchNodes(ids));
    return { fromSize, toSize, path: path.map(toHex) };
  }

  /** The tree must cover `size` leaves: integrate first if it does not yet. */
  private async covering(field: string, size: number): Promise<void> {
    const [tree] = (await this.dataSource.query('SELECT size FROM audit_tree')) as { size: string }[];
    if (Number(tree.size) >= size) return;
    const frontier = await this.integrate();
    if (frontier.size < size) throw CordonException.badInput(field, `the log has ${frontier.size} events`);
  }

  /** Stored nodes in one query: leaves from audit_event, higher levels from audit_node. */
  private async fetchNodes(ids: NodeId[]): Promise<Map<string, Uint8Array>> {
    const leaves = ids.filter((n) => n.level === 0).map((n) => n.index);
    const inner = ids.filter((n) => n.level > 0);
    const rows = (await this.dataSource.query(
      `SELECT 0 AS level, idx, leaf_hash AS hash FROM audit_event WHERE idx = ANY($1::bigint[])
       UNION ALL
       SELECT n.level, n.idx, n.hash FROM unnest($2::smallint[], $3::bigint[]) AS k(level, idx)
         JOIN audit_node n ON n.level = k.level AND n.idx = k.idx`,
      [leaves, inner.map((n) => n.level), inner.map((n) => n.index)],
    )) as { level: number; idx: string; hash: Buffer }[];
    return new Map(rows.map((r) => [nodeKey({ level: Number(r.level), index: Number(r.idx) }), r.hash]));
  }
}

function whole(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw CordonException.badInput(field, `must be a whole number of at least ${min}`);
}
