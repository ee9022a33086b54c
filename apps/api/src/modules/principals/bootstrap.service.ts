import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigError, type CordonConfig } from '@app/config';
import { JwkError, parsePublicJwk, type PublicJwk } from '@app/signing';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { MemberKind, Role } from '../../common/roles.js';
import { CONFIG, LOGGER } from '../../common/tokens.js';
import { AuditService } from '../audit/audit.service.js';

const BOOTSTRAP_LOCK = 7_263_013;
export const BOOTSTRAP_MEMBER = 'Coalition Secretariat';
export const BOOTSTRAP_PRINCIPAL = 'admin';

/**
 * SPEC 2 bootstrap: when the database holds no principal and CORDON_BOOTSTRAP_ADMIN_JWK holds a
 * public JWK, create the COORDINATOR member `Coalition Secretariat` and its principal `admin`
 * (ADMIN CURATOR AUDITOR) on that key. Once: later starts find a principal and do nothing.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: CordonConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.bootstrapAdminJwk) {
      // An empty database and no bootstrap key: nobody could ever sign in. Say how to make one.
      const [{ n }] = (await this.dataSource.query('SELECT count(*)::int AS n FROM principal')) as { n: number }[];
      if (n === 0) {
        this.logger.warn(
          'no principal exists and CORDON_BOOTSTRAP_ADMIN_JWK is unset, so nobody can sign in: make a key with ' +
            '`npm run -s cordon -- keygen --out keys/admin.json` and start with ' +
            'CORDON_BOOTSTRAP_ADMIN_JWK="$(npm run -s cordon -- jwk --key keys/admin.json)" (README: Five minutes with Cordon)',
        );
      }
      return;
    }
    let jwk: PublicJwk;
    try {
      jwk = await parsePublicJwk(this.config.bootstrapAdminJwk, 'CORDON_BOOTSTRAP_ADMIN_JWK');
    } catch (err) {
      if (err instanceof JwkError) throw new ConfigError('CORDON_BOOTSTRAP_ADMIN_JWK', err.message);
      throw err;
    }
    const created = await this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
      const [{ n }] = (await em.query('SELECT count(*)::int AS n FROM principal')) as { n: number }[];
      if (n > 0) return null;
      const [member] = (await em.query(
        `INSERT INTO member (name, kind) VALUES ($1, $2)
         ON CONFLICT (lower(name)) DO UPDATE SET kind = member.kind RETURNING id`,
        [BOOTSTRAP_MEMBER, MemberKind.COORDINATOR],
      )) as { id: string }[];
      const roles = [Role.CURATOR, Role.AUDITOR, Role.ADMIN];
      const [principal] = (await em.query(`INSERT INTO principal (member_id, name, roles) VALUES ($1, $2, $3) RETURNING id`, [
        member.id,
        BOOTSTRAP_PRINCIPAL,
        roles,
      ])) as { id: string }[];
      await em.query(`INSERT INTO principal_key (kid, principal_id, alg, public_jwk) VALUES ($1, $2, $3, $4)`, [
        jwk.kid,
        principal.id,
        jwk.alg,
        JSON.stringify(jwk),
      ]);
      await this.audit.record(em, {
        action: 'bootstrap',
        actor: null,
        subjectId: principal.id,
        subjectMemberId: member.id,
        data: { memberId: member.id, member: BOOTSTRAP_MEMBER, principal: BOOTSTRAP_PRINCIPAL, roles, kid: jwk.kid },
      });
      return principal.id;
    });
    if (created) this.logger.info({ principalId: created, kid: jwk.kid }, 'bootstrap administrator created');
    else this.logger.info('CORDON_BOOTSTRAP_ADMIN_JWK ignored: the database already has principals');
  }
}
