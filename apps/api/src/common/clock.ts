import { Injectable } from '@nestjs/common';

/** The one source of time for the service; tests replace it to move time. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  /** Seconds since the epoch. */
  epochSeconds(): number {
    return Math.floor(this.now().getTime() / 1000);
  }
}
