import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit.service.js';
import { Transactions } from './transactions.js';

@Global()
@Module({ providers: [AuditService, Transactions], exports: [AuditService, Transactions] })
export class AuditModule {}
