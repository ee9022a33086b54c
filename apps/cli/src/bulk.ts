import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** One result line of POST /v1/screen (README "Screening in bulk"; the fields the CLI reads). */
export interface BulkResult {
  line: number;
  input: string;
  kind: string | null;
  network: string | null;
  normalized: string | null;
  fingerprint: string | null;
  valid: boolean;
  error: string | null;
  match: boolean;
  matchedVia: string | null;
  indicator: { id: string; status: string; confidence?: number; category?: string } | null;
}

/** The call was refused, as a whole (an HTTP error) or from some line on (the answer's `error` line). */
export class BulkCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** result lines received before the refusal */
    readonly results: number,
  ) {
    super(message);
  }
}

/**
 * POSTs `lines` (NDJSON, sent as the service reads them) to `${base}/v1/screen` and yields the
 * answer's result lines in order as they arrive: request and answer stream at the same time,
 * each at the pace of the other (the service reads the body only as fast as its answer is read).
 * Ends at the `summary` line; throws BulkCallError on a refusal, Error on a cut connection.
 */
export async function* bulkScreen(base: string, token: string, lines: AsyncIterable<string>): AsyncGenerator<BulkResult> {
  const url = new URL('/v1/screen', base);
  const request = (url.protocol === 'https:' ? https : http).request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}`, accept: 'application/x-ndjson' },
  });
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  // The body's own failure (the service stopped reading after refusing the call) matters only
  // when no answer says why.
  const sent = pipeline(Readable.from(lines), request).catch((err: Error) => err);
  let response: IncomingMessage;
  try {
    response = await answered;
  } catch (err) {
    throw new Error(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  // A connection cut mid-answer ends the line reading below, which then says so; not an unhandled event.
  response.on('error', () => undefined);
  let ended = false;
  try {
    if (response.statusCode !== 200) {
      let text = '';
      for await (const chunk of response) text += chunk;
      const refusal = parseJson(text) as { errors?: { message: string; extensions?: { code?: string } }[] } | undefined;
      const first = refusal?.errors?.[0];
      throw new BulkCallError(first?.extensions?.code ?? `HTTP_${response.statusCode}`, first?.message ?? `${url.origin} answered HTTP ${response.statusCode}`, 0);
    }
    let results = 0;
    const answer = createInterface({ input: response, crlfDelay: Infinity });
    answer.on('error', () => undefined);
    for await (const text of answer) {
      if (text === '') continue;
      const line = parseJson(text) as (BulkResult & { summary?: unknown }) | { error: { code: string; message: string } } | undefined;
      if (!line || typeof line !== 'object') throw new Error(`the service answered a line that is not JSON: ${text.slice(0, 80)}`);
      // A result names its line; the last line of the answer is a summary, or the call's refusal.
      if (!('line' in line)) {
        if (line.error && typeof line.error === 'object') throw new BulkCallError(line.error.code, line.error.message, results);
        if (!('summary' in line)) throw new Error(`the service answered a line that is not a result: ${text.slice(0, 80)}`);
        ended = true;
        response.resume();
        return;
      }
      results++;
      yield line;
    }
    const err = await sent;
    throw new Error(`the answer ended after ${results} results without its summary line (connection cut${err ? `: ${err.message}` : ''})`);
  } finally {
    // Ended early (refused, or the caller stopped reading): the connection is closed.
    if (!ended) request.destroy();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
