import { Module } from '@nestjs/common';
import { MembersModule } from '../members/members.module.js';
import { BootstrapService } from './bootstrap.service.js';
import { MemberPrincipalsResolver } from './member-principals.resolver.js';
import { PrincipalsResolver } from './principals.resolver.js';
import { PrincipalsService } from './principals.service.js';

@Module({
  imports: [MembersModule],
  providers: [PrincipalsService, PrincipalsResolver, MemberPrincipalsResolver, BootstrapService],
  exports: [PrincipalsService],
})
export class PrincipalsModule {}
