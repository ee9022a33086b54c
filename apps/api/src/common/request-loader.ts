import DataLoader from 'dataloader';

const LOADERS = new WeakMap<object, Map<string, DataLoader<unknown, unknown>>>();

/**
 * A DataLoader that lives as long as one request: nested fields of many parents are fetched with
 * one query per field, never one per parent (no N+1), and nothing is cached across callers.
 */
export function requestLoader<K, V>(req: object, name: string, batch: (keys: readonly K[]) => Promise<V[]>): DataLoader<K, V> {
  let loaders = LOADERS.get(req);
  if (!loaders) {
    loaders = new Map();
    LOADERS.set(req, loaders);
  }
  let loader = loaders.get(name) as DataLoader<K, V> | undefined;
  if (!loader) {
    loader = new DataLoader<K, V>(batch, { maxBatchSize: 10_000 });
    loaders.set(name, loader as DataLoader<unknown, unknown>);
  }
  return loader;
}
