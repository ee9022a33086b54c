import http from 'node:http';

export interface BulkAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** the answer's lines parsed (NDJSON), or the JSON error body as one element */
  lines: any[];
}

export interface BulkOptions {
  type?: string;
  token?: string;
  /** each answer line as it arrives (then `lines` stays empty: a 2,000,000-line answer is not kept) */
  onLine?: (line: any) => void;
  /** called once this many answer lines have arrived (a test revokes a key mid-stream) */
  after?: { lines: number; run: () => Promise<void> };
  headers?: Record<string, string>;
}

/**
 * POST /v1/screen over a real connection, as a client streaming a file would: the body is written
 * chunk by chunk, waiting for the socket to drain, while the answer is read as it comes (the
 * endpoint reads the body only as fast as answers are taken).
 */
export function bulk(baseUrl: string, body: string | Iterable<string> | AsyncIterable<string>, options: BulkOptions = {}): Promise<BulkAnswer> {
  const url = new URL('/v1/screen', baseUrl);
  return new Promise((resolve, reject) => {
    let gate: Promise<void> = Promise.resolve();
    let pending = '';
    let seen = 0;
    const lines: any[] = [];
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': options.type ?? 'application/x-ndjson',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(typeof body === 'string' ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        res.setEncoding('utf8');
        const json = !String(res.headers['content-type'] ?? '').includes('ndjson');
        res.on('data', (chunk: string) => {
          pending += chunk;
          if (json) return;
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const text = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            const line = JSON.parse(text);
            seen++;
            if (options.onLine) options.onLine(line);
            else lines.push(line);
            if (options.after && seen === options.after.lines) {
              res.pause();
              gate = options.after.run().finally(() => res.resume());
            }
          }
        });
        res.on('end', () => {
          gate.then(() => {
            if (json && pending) lines.push(JSON.parse(pending));
            resolve({ status: res.statusCode ?? 0, headers: res.headers, lines });
          }, reject);
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // A server that answers before reading all of a refused body may reset the upload: the answer already came.
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    (async () => {
      if (typeof body === 'string') {
        req.end(body);
        return;
      }
      let buffered = '';
      const flush = async () => {
        if (!req.write(buffered)) await new Promise((r) => req.once('drain', r));
        buffered = '';
      };
      for await (const piece of body as AsyncIterable<string>) {
        buffered += piece;
        if (buffered.length >= 64 * 1024) {
          await gate;
          await flush();
        }
      }
      if (buffered) await flush();
      req.end();
    })().catch((err) => req.destroy(err));
  });
}
