/**
 * Runs tasks that share a key one after another, inside this daemon. Nested binders serialise
 * their read-modify-write updates of one VM port or one trunk with it, so concurrent binds in
 * one daemon do not keep invalidating each other's Neutron revision. Writers in other processes
 * are handled by Neutron: `If-Match` for ports, and 409 replies for trunk subports.
 */
export class PerKeyQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    // The tail never rejects, so the next task starts whether this one succeeds or fails.
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
