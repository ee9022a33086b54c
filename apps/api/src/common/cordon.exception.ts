/** The error codes clients see in `extensions.code` (SPEC 2 and the project's own). */
export enum ErrorCode {
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/**
 * Every domain refusal is one of these; one global formatter turns it into a GraphQL error.
 * `field` names the input that was wrong (e.g. `input.roles`) and prefixes the message.
 */
export class CordonException extends Error {
  constructor(
    readonly code: ErrorCode | string,
    message: string,
    readonly field?: string,
    /** for UNAUTHENTICATED: the caller's own mistake, when telling it reveals nothing (extensions.reason) */
    readonly reason?: string,
  ) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'CordonException';
  }

  static badInput(field: string, reason: string): CordonException {
    return new CordonException(ErrorCode.BAD_USER_INPUT, reason, field);
  }

  static notFound(what: string, field?: string): CordonException {
    return new CordonException(ErrorCode.NOT_FOUND, `${what} not found`, field);
  }

  static forbidden(reason = 'you do not have a role that allows this'): CordonException {
    return new CordonException(ErrorCode.FORBIDDEN, reason);
  }

  /**
   * A refused token. `reason` says what was wrong when it is the caller's own mistake (expired,
   * not yet valid, lifetime, audience, header members, shape); nothing is said where telling would
   * reveal keys or principals (unknown or revoked kid, bad signature, disabled, suspended).
   */
  static unauthenticated(reason?: string): CordonException {
    return new CordonException(ErrorCode.UNAUTHENTICATED, 'authentication failed: send a valid bearer token signed by an active key', undefined, reason);
  }
}
