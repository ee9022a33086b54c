import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A member's HTTPS receiver on loopback, with a certificate of its own (trusted by the service
 * through CORDON_WEBHOOK_CA_FILE): answers from `answers` in turn (then 200), records every request.
 */
export async function receiver(dir: string) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const requests: { headers: Record<string, string | string[] | undefined>; body: string; status: number }[] = [];
  const answers = new Map<string, number[]>();
  let always: number | undefined;
  const hang = new Set<string>();
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hang.has(req.url ?? '')) {
        // Headers never come: a wedged receiver (or one trickling its answer).
        requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: 0 });
        return;
      }
      const status = answers.get(req.url ?? '')?.shift() ?? always ?? 200;
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    certFile: cert,
    url: (p: string) => `https://127.0.0.1:${(server.address() as AddressInfo).port}${p}`,
    requests,
    /** The next answers to requests for this path. */
    answer: (p: string, ...statuses: number[]) => answers.set(p, [...(answers.get(p) ?? []), ...statuses]),
    setAlways: (s: number | undefined) => (always = s),
    /** Requests for this path are never answered. */
    hang: (p: string) => hang.add(p),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
