import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { AttemptOutcome } from './webhook.store.js';

export interface SendOptions {
  /** Longest the whole attempt may take: connection, TLS, request and answer's headers. */
  timeoutMs: number;
  /** Extra CA certificates (PEM) to trust besides the system's. */
  ca?: string;
  headers: Record<string, string>;
}

/**
 * What a failed attempt is called in the delivery log and the member's notification: a category
 * only, never the receiver's answer or the network's error text (they could tell a member about
 * hosts behind the service). The full error goes to the service's own log.
 */
function category(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name not found';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection reset';
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|TLS|SSL/.test(code) || /certificate|tls|ssl/i.test(err.message)) return 'TLS: the certificate does not verify';
  return 'connection failed';
}

/**
 * One POST of a signed delivery. A 2xx answer's headers within `timeoutMs` are a delivery (the
 * body is not read); anything else — another status (redirects are not followed), no answer in
 * time however slowly it trickles, a refused connection, a certificate that does not verify — is a
 * failed attempt. The deadline covers the whole attempt, so a receiver can hold up only itself.
 */
export function send(url: string, body: string, options: SendOptions, onError?: (err: Error) => void): Promise<AttemptOutcome & { ok: boolean }> {
  const started = Date.now();
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      resolve({ ok: status !== null && status >= 200 && status < 300 && error === null, status, error, durationMs: Date.now() - started });
    };
    const request = client.request(
      target,
      {
        method: 'POST',
        headers: { ...options.headers, 'content-length': Buffer.byteLength(body) },
        // The system's roots and the extra ones: `ca` alone would replace the roots.
        ...(target.protocol === 'https:' && options.ca ? { ca: [...tls.rootCertificates, options.ca] } : {}),
        agent: false,
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 200 && status < 300) return done(status, null);
        done(status, status >= 300 && status < 400 ? `HTTP ${status}: a redirect (not followed)` : `HTTP ${status}`);
      },
    );
    const deadline = setTimeout(() => done(null, `no answer within ${options.timeoutMs} ms`), options.timeoutMs);
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      onError?.(err);
      done(null, category(err));
    });
    request.end(body);
  });
}
