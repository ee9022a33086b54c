/** The CORDON_METRICS_TOKEN every test server gets (startTestApp, spawnServer): GET /metrics needs it. */
export const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef0123456789';

/** GET /metrics as the operator's scraper reads it. */
export function fetchMetrics(url: string, token: string = METRICS_TOKEN): Promise<Response> {
  return fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
}

/** The Prometheus text of GET /metrics. */
export async function metricsText(url: string): Promise<string> {
  const res = await fetchMetrics(url);
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${await res.text()}`);
  return res.text();
}
