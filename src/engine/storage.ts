/**
 * What the engine persists: finished networks, trade-off points and the state of the current run,
 * as plain structured-cloneable records in three stores. `IndexedDbStorage` is used in the worker,
 * `MemoryStorage` in Node tests (same semantics: values are structured-cloned in and out).
 */

export type StoreName = 'nets' | 'points' | 'runs';
const STORES: StoreName[] = ['nets', 'points', 'runs'];

export interface EngineStorage {
  get<T>(store: StoreName, key: string): Promise<T | undefined>;
  put(store: StoreName, key: string, value: unknown): Promise<void>;
  delete(store: StoreName, key: string): Promise<void>;
  /** every record whose key starts with `prefix`, in key order */
  list<T>(store: StoreName, prefix?: string): Promise<{ key: string; value: T }[]>;
  clear(): Promise<void>;
}

/** In-memory storage (tests; and the fallback when IndexedDB cannot be opened). */
export class MemoryStorage implements EngineStorage {
  private data = new Map<StoreName, Map<string, unknown>>(STORES.map((s) => [s, new Map()]));

  private store(s: StoreName): Map<string, unknown> {
    return this.data.get(s) as Map<string, unknown>;
  }
  async get<T>(store: StoreName, key: string): Promise<T | undefined> {
    const v = this.store(store).get(key);
    return v === undefined ? undefined : structuredClone(v) as T;
  }
  async put(store: StoreName, key: string, value: unknown): Promise<void> {
    this.store(store).set(key, structuredClone(value));
  }
  async delete(store: StoreName, key: string): Promise<void> {
    this.store(store).delete(key);
  }
  async list<T>(store: StoreName, prefix = ''): Promise<{ key: string; value: T }[]> {
    return [...this.store(store).entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => ({ key, value: structuredClone(value) as T }));
  }
  async clear(): Promise<void> {
    for (const s of STORES) this.store(s).clear();
  }
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** IndexedDB storage: one database, one object store per StoreName, string keys. */
export class IndexedDbStorage implements EngineStorage {
  private db: Promise<IDBDatabase>;

  constructor(factory: IDBFactory = indexedDB, name = 'rescl-lab') {
    this.db = new Promise((resolve, reject) => {
      const open = factory.open(name, 1);
      open.onupgradeneeded = () => { for (const s of STORES) if (!open.result.objectStoreNames.contains(s)) open.result.createObjectStore(s); };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('cannot open IndexedDB'));
    });
  }

  private async tx(store: StoreName, mode: IDBTransactionMode): Promise<IDBObjectStore> {
    return (await this.db).transaction(store, mode).objectStore(store);
  }
  async get<T>(store: StoreName, key: string): Promise<T | undefined> {
    return (await request((await this.tx(store, 'readonly')).get(key))) as T | undefined;
  }
  async put(store: StoreName, key: string, value: unknown): Promise<void> {
    await request((await this.tx(store, 'readwrite')).put(value, key));
  }
  async delete(store: StoreName, key: string): Promise<void> {
    await request((await this.tx(store, 'readwrite')).delete(key));
  }
  async list<T>(store: StoreName, prefix = ''): Promise<{ key: string; value: T }[]> {
    const os = await this.tx(store, 'readonly');
    const range = prefix ? IDBKeyRange.bound(prefix, prefix + '\uffff') : undefined;
    const [keys, values] = await Promise.all([request(os.getAllKeys(range)), request(os.getAll(range))]);
    return keys.map((k, i) => ({ key: String(k), value: values[i] as T }));
  }
  async clear(): Promise<void> {
    for (const s of STORES) await request((await this.tx(s, 'readwrite')).clear());
  }
}
