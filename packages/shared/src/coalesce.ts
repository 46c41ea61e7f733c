/**
 * Turns many concurrent single calls into one call per batch: items handed to `add` in the same turn of the
 * event loop (up to `maxBatch`) go to `flush` together, and each caller gets the result at its own index.
 * A failed batch of several is retried one item at a time, so one bad item fails only its own caller.
 *
 * Why: under concurrent load the API's submits each cost a Postgres round trip and a Redis round trip; one
 * multi-row INSERT and one addBulk per turn cost about as much as one of them (see docs/performance.md).
 * Latency cost: at most one turn of the event loop (setImmediate), nothing when idle.
 */
export function createCoalescer<T, R>(
  flush: (items: T[]) => Promise<R[]>,
  options: { maxBatch?: number } = {},
) {
  const maxBatch = options.maxBatch ?? 100;
  let pending: { item: T; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  let scheduled = false;

  const run = async (batch: typeof pending) => {
    try {
      const results = await flush(batch.map((p) => p.item));
      for (const [i, p] of batch.entries()) p.resolve(results[i] as R);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      await Promise.all(batch.map((p) => run([p])));
    }
  };

  const drain = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length) void run(batch);
  };

  return {
    add(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (pending.length >= maxBatch) drain();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
    },
  };
}
