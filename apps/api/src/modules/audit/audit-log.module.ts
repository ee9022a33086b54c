import { Module } from '@nestjs/common';
import { AuditTreeService } from './audit-tree.service.js';
import { AuditResolver } from './audit.resolver.js';

/** The audit log read side: the Merkle tree, checkpoints, proofs and events (SPEC 6). */
@Module({ providers: [AuditTreeService, AuditResolver], exports: [AuditTreeService] })
export class AuditLogModule {}
