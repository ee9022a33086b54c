import { promises as fs } from 'node:fs';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigError, type CordonConfig } from '@app/config';
import {
  generateSigningKey,
  parsePrivateJwk,
  type PrivateJwk,
  type PublicJwk,
  publicPart,
  sealPrivateJwk,
  createSigner,
  type CompactSigner,
  unsealPrivateJwk,
} from '@app/signing';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CONFIG, LOGGER } from '../../common/tokens.js';
import { AuditService } from '../audit/audit.service.js';

interface KeyRow {
  kid: string;
  public_jwk: PublicJwk;
  private_jwk: string | null;
  sealed: boolean;
}

/** Serialises first-start key generation between processes sharing one database. */
const KEY_LOCK = 7_263_012;

/**
 * The exchange's own signing key (SPEC 2): generated on first start and kept in the database
 * (sealed with CORDON_KEY_ENCRYPTION_KEY when given) or in CORDON_EXCHANGE_KEY_FILE. It signs
 * receipts and checkpoints; every public key it ever had is served at /.well-known/jwks.json.
 */
@Injectable()
export class ExchangeKeyService implements OnApplicationBootstrap {
  private current: PrivateJwk | undefined;
  private signer: CompactSigner | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: CordonConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.current = this.config.exchangeKeyFile ? await this.fromFile(this.config.exchangeKeyFile) : await this.fromDatabase();
    this.signer = createSigner(this.current);
    this.logger.info({ kid: this.current.kid, alg: this.current.alg }, 'exchange signing key ready');
  }

  get kid(): string {
    return this.key().kid;
  }

  /** Signs a payload as a compact JWS with the current exchange key. */
  sign(payload: unknown, typ: string): Promise<string> {
    if (!this.signer) throw new Error('exchange key not loaded yet');
    return this.signer(payload, typ);
  }

  /** Every exchange public key, current first. */
  async publicKeys(): Promise<PublicJwk[]> {
    const rows = (await this.dataSource.query(
      `SELECT public_jwk FROM exchange_key ORDER BY (kid = $1) DESC, created_at DESC`,
      [this.kid],
    )) as { public_jwk: PublicJwk }[];
    return rows.map((r) => publicPart(r.public_jwk));
  }

  private key(): PrivateJwk {
    if (!this.current) throw new Error('exchange key not loaded yet');
    return this.current;
  }

  private async fromDatabase(): Promise<PrivateJwk> {
    return this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [KEY_LOCK]);
      const rows = (await em.query(
        `SELECT kid, public_jwk, private_jwk, sealed FROM exchange_key
          WHERE retired_at IS NULL AND private_jwk IS NOT NULL`,
      )) as KeyRow[];
      if (rows.length === 1) return this.open(em, rows[0]);
      const { privateJwk, publicJwk } = await generateSigningKey(this.config.exchangeKeyAlg);
      const kek = this.config.keyEncryptionKey;
      const stored = kek ? await sealPrivateJwk(privateJwk, kek) : JSON.stringify(privateJwk);
      await em.query(`INSERT INTO exchange_key (kid, alg, public_jwk, private_jwk, sealed) VALUES ($1, $2, $3, $4, $5)`, [
        publicJwk.kid,
        publicJwk.alg,
        JSON.stringify(publicJwk),
        stored,
        Boolean(kek),
      ]);
      await this.audit.record(em, {
        action: 'exchange_key.create',
        actor: null,
        subjectId: publicJwk.kid,
        data: { kid: publicJwk.kid, alg: publicJwk.alg, sealed: Boolean(kek) },
      });
      return privateJwk;
    });
  }

  private async open(em: DataSource['manager'], row: KeyRow): Promise<PrivateJwk> {
    const kek = this.config.keyEncryptionKey;
    if (row.sealed) {
      if (!kek) {
        throw new ConfigError('CORDON_KEY_ENCRYPTION_KEY', 'the exchange key in the database is encrypted; give the key-encryption key it was sealed with');
      }
      try {
        return await unsealPrivateJwk(row.private_jwk!, kek);
      } catch {
        throw new ConfigError('CORDON_KEY_ENCRYPTION_KEY', 'does not decrypt the exchange key in the database (wrong key?)');
      }
    }
    const jwk = JSON.parse(row.private_jwk!) as PrivateJwk;
    if (kek) {
      // A key-encryption key was added since the key was made: seal the key now.
      await em.query(`UPDATE exchange_key SET private_jwk = $2, sealed = true WHERE kid = $1`, [row.kid, await sealPrivateJwk(jwk, kek)]);
      await this.audit.record(em, { action: 'exchange_key.seal', actor: null, subjectId: row.kid, data: { kid: row.kid } });
      this.logger.info({ kid: row.kid }, 'exchange key sealed with the key-encryption key');
    }
    return jwk;
  }

  private async fromFile(file: string): Promise<PrivateJwk> {
    let jwk: PrivateJwk;
    try {
      jwk = await parsePrivateJwk(JSON.parse(await fs.readFile(file, 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ConfigError('CORDON_EXCHANGE_KEY_FILE', `${file} does not hold a valid ES256/EdDSA private JWK`);
      }
      ({ privateJwk: jwk } = await generateSigningKey(this.config.exchangeKeyAlg));
      await fs.writeFile(file, JSON.stringify(jwk, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      this.logger.info({ kid: jwk.kid }, 'exchange key generated into CORDON_EXCHANGE_KEY_FILE');
    }
    // Keep the public part in the database so JWKS serves it even after a later key change.
    await this.dataSource.transaction(async (em) => {
      const inserted = (await em.query(
        `INSERT INTO exchange_key (kid, alg, public_jwk, private_jwk, sealed) VALUES ($1, $2, $3, NULL, false)
         ON CONFLICT (kid) DO NOTHING RETURNING kid`,
        [jwk.kid, jwk.alg, JSON.stringify(publicPart(jwk))],
      )) as unknown[];
      if (inserted.length > 0) {
        await this.audit.record(em, {
          action: 'exchange_key.register',
          actor: null,
          subjectId: jwk.kid,
          data: { kid: jwk.kid, alg: jwk.alg, keptIn: 'CORDON_EXCHANGE_KEY_FILE' },
        });
      }
    });
    return jwk;
  }
}
