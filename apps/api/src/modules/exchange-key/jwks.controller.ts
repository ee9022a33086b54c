import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../../common/access.decorator.js';
import { ExchangeKeyService } from './exchange-key.service.js';

@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: ExchangeKeyService) {}

  /** The exchange's public keys (RFC 7517 key set): verify receipts and checkpoints with them. */
  @Get('jwks.json')
  @Public()
  @Header('Cache-Control', 'public, max-age=300')
  async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
    const keys = await this.keys.publicKeys();
    return { keys: keys.map((k) => ({ ...k, use: 'sig' })) };
  }
}
