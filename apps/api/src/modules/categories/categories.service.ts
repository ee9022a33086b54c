import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type Caller, isCoordinator } from '../../common/caller.js';
import { Clock } from '../../common/clock.js';
import { CordonException } from '../../common/cordon.exception.js';
import { text } from '../../common/validate.js';
import { Transactions } from '../audit/transactions.js';

export interface CategoryRow {
  name: string;
  description: string;
  created_at: Date;
  created_by: string | null;
  retired_at: Date | null;
  retired_by: string | null;
  retire_reason: string | null;
}

const COLUMNS = 'name, description, created_at, created_by, retired_at, retired_by, retire_reason';
const NAME = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The category vocabulary (README "Categories"): the only writer of `category`. A statement's
 * category must be one in force (StatementsService asks `inForce` once per call); coordinators'
 * curators add categories and retire them (a retired one refuses new statements; stored ones keep it).
 */
@Injectable()
export class CategoriesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly clock: Clock,
  ) {}

  /** Names in force, sorted. */
  async inForce(): Promise<string[]> {
    const rows = (await this.dataSource.query(`SELECT name FROM category WHERE retired_at IS NULL ORDER BY name`)) as { name: string }[];
    return rows.map((r) => r.name);
  }

  async list(includeRetired: boolean): Promise<CategoryRow[]> {
    return (await this.dataSource.query(
      `SELECT ${COLUMNS} FROM category ${includeRetired ? '' : 'WHERE retired_at IS NULL'} ORDER BY name`,
    )) as CategoryRow[];
  }

  /** Adds a category, or puts a retired one back in force with the new description. */
  async add(caller: Caller, name: string, description: string): Promise<CategoryRow> {
    this.requireCoordinator(caller);
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw CordonException.badInput('input.name', 'must be an upper-case identifier such as CSAM_COMMERCIAL (A-Z, 0-9, _; at most 64)');
    }
    const about = text('input.description', description);
    return this.transactions.run(caller, async (tx) => {
      const [before] = await tx.query<CategoryRow>(`SELECT ${COLUMNS} FROM category WHERE name = $1 FOR UPDATE`, [name]);
      if (before && before.retired_at === null) throw CordonException.badInput('input.name', `${name} is already in the vocabulary`);
      const [row] = before
        ? await tx.query<CategoryRow>(
            `UPDATE category SET description = $2, retired_at = NULL, retired_by = NULL, retire_reason = NULL WHERE name = $1 RETURNING ${COLUMNS}`,
            [name, about],
          )
        : await tx.query<CategoryRow>(
            // Two curators adding the same name at once: the second is told, not failed.
            `INSERT INTO category (name, description, created_at, created_by) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
            [name, about, this.clock.now(), caller.principalId],
          );
      if (!row) throw CordonException.badInput('input.name', `${name} is already in the vocabulary`);
      await tx.record({ action: before ? 'category.reinstate' : 'category.add', subjectId: null, data: { name, description: about } });
      return row;
    });
  }

  async retire(caller: Caller, name: string, reason: string): Promise<CategoryRow> {
    this.requireCoordinator(caller);
    const why = text('reason', reason);
    return this.transactions.run(caller, async (tx) => {
      const [row] = await tx.query<CategoryRow>(
        `UPDATE category SET retired_at = $2, retired_by = $3, retire_reason = $4 WHERE name = $1 AND retired_at IS NULL RETURNING ${COLUMNS}`,
        [name, this.clock.now(), caller.principalId, why],
      );
      if (!row) throw CordonException.notFound('category in force', 'name');
      await tx.record({ action: 'category.retire', subjectId: null, data: { name, reason: why } });
      return row;
    });
  }

  /** CURATOR is held only by coordinator members' principals; checked again here all the same. */
  private requireCoordinator(caller: Caller): void {
    if (!isCoordinator(caller)) throw CordonException.forbidden('the category vocabulary is kept by coordinator members');
  }
}
