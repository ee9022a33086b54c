import { Controller, Get, HttpCode, HttpException, HttpStatus } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '../../common/access.decorator.js';

@Controller()
export class HealthController {
  constructor(private readonly dataSource: DataSource) {}

  /** 200 only when the database answers. */
  @Get('health')
  @Public()
  @HttpCode(200)
  async health(): Promise<{ status: 'ok' }> {
    try {
      await this.dataSource.query('SELECT 1');
      return { status: 'ok' };
    } catch {
      throw new HttpException({ status: 'unavailable', reason: 'database not answering' }, HttpStatus.SERVICE_UNAVAILABLE);
    }
  }
}
