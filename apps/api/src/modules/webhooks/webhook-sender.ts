import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { AttemptOutcome } from './webhook.store.js';

/** Most of a receiver's answer kept in the log (only for the error text of a failed attempt). */
const ANSWER_BYTES = 512;

export interface SendOptions {
  timeoutMs: number;
  /** Extra CA certificates (PEM) to trust besides the system's. */
  ca?: string;
  headers: Record<string, string>;
}

/**
 * One POST of a signed delivery. A 2xx answer within the timeout is a delivery; anything else —
 * another status (redirects are not followed), a refused connection, a bad certificate, a timeout —
 * is a failed attempt, described for the log without the receiver's body beyond a short excerpt.
 */
export function send(url: string, body: string, options: SendOptions): Promise<AttemptOutcome & { ok: boolean }> {
  const started = Date.now();
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      resolve({ ok: status !== null && status >= 200 && status < 300 && error === null, status, error, durationMs: Date.now() - started });
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': Buffer.byteLength(body) },
        timeout: options.timeoutMs,
        // The system's roots and the extra ones: `ca` alone would replace the roots.
        ...(target.protocol === 'https:' && options.ca ? { ca: [...tls.rootCertificates, options.ca] } : {}),
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < ANSWER_BYTES) chunks.push(chunk.subarray(0, ANSWER_BYTES - size));
          size += chunk.length;
        });
        response.on('end', () => {
          if (status >= 200 && status < 300) return done(status, null);
          const excerpt = Buffer.concat(chunks).toString('utf8').replace(/[\p{Cc}]+/gu, ' ').trim().slice(0, 200);
          const what = status >= 300 && status < 400 ? `redirect to ${response.headers.location ?? '?'} (redirects are not followed)` : `HTTP ${status}`;
          done(status, excerpt ? `${what}: ${excerpt}` : what);
        });
        response.on('error', (err) => done(status, `answer broken off: ${err.message}`));
      },
    );
    request.on('timeout', () => {
      request.destroy();
      done(null, `no answer within ${options.timeoutMs} ms`);
    });
    request.on('error', (err: NodeJS.ErrnoException) => done(null, `${err.code ?? 'error'}: ${err.message}`));
    request.end(body);
  });
}
