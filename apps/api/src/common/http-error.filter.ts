import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';

/**
 * HTTP-level refusals (body too large, malformed JSON, unknown route) answered in the GraphQL
 * error shape, so a client reads `errors[0].extensions.code` whatever went wrong. Errors inside
 * GraphQL operations pass through to the GraphQL error formatter.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    private readonly maxBodyBytes: number,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() !== 'http') return exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const status = exception instanceof HttpException ? exception.getStatus() : HttpStatus.INTERNAL_SERVER_ERROR;
    if (status >= 500 && status !== HttpStatus.SERVICE_UNAVAILABLE) this.logger.error({ err: exception }, 'request failed');
    // JSON whatever the route had set (GET /metrics sets text/plain before it may refuse).
    reply.header('content-type', 'application/json; charset=utf-8');
    if (status === HttpStatus.SERVICE_UNAVAILABLE && exception instanceof HttpException) {
      return reply.status(status).send(exception.getResponse());
    }
    // A refusal already in the GraphQL error shape (a route's own code and message).
    const own = exception instanceof HttpException ? exception.getResponse() : undefined;
    if (status < 500 && own !== null && typeof own === 'object' && Array.isArray((own as { errors?: unknown }).errors)) {
      return reply.status(status).send(own);
    }
    const [code, message] =
      status === HttpStatus.PAYLOAD_TOO_LARGE
        ? ['PAYLOAD_TOO_LARGE', `request body is larger than CORDON_MAX_BODY_BYTES (${this.maxBodyBytes} bytes)`]
        : status === HttpStatus.NOT_FOUND
          ? ['NOT_FOUND', 'no such route']
          : status < 500 && exception instanceof HttpException && /JSON/i.test(exception.message)
            ? ['BAD_USER_INPUT', 'body: not valid JSON, or holds a __proto__ or constructor member (refused)']
            : status < 500
              ? ['BAD_REQUEST', exception instanceof HttpException ? exception.message : 'bad request']
            : ['INTERNAL_SERVER_ERROR', 'Internal server error'];
    return reply.status(status).send({ errors: [{ message, extensions: { code } }] });
  }
}
