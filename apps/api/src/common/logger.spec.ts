import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { createLogger } from './logger.js';

describe('logged errors', () => {
  it('never carry a failed query’s SQL, parameters or the values PostgreSQL quotes back', () => {
    const url = 'https://reported-abuse-site.example/gallery/1';
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger('info', sink);
    const driverError = Object.assign(new Error(`invalid input syntax for type uuid: "${url}"`), { code: '22P02', detail: url });
    const err = new QueryFailedError('INSERT INTO statement_site (url) VALUES ($1)', [url, 'eyJhbGciOi.jws.text'], driverError);
    logger.error({ err }, 'unexpected error');
    const line = JSON.parse(lines.join(''));
    expect(line.err).toMatchObject({ type: 'QueryFailedError', message: 'invalid input syntax for type uuid', code: '22P02' });
    expect(lines.join('')).not.toContain(url);
    expect(lines.join('')).not.toContain('eyJhbGciOi');
    expect(lines.join('')).not.toContain('INSERT INTO');
  });
});
