/**
 * Readiness of the daemon: it is ready once Keystone issued a token and
 * Neutron replied to a request, at least once since start. The plugin socket
 * listens before that, so dockerd's calls get an error naming the cause
 * rather than a stall.
 */
import type { CallInfo } from '../neutron/index.js';

export class Readiness {
  #ready = false;
  #reason = 'Neutron has not been reached yet';
  readonly #listeners: ((ready: boolean) => void)[] = [];

  get ready(): boolean {
    return this.#ready;
  }

  /** Reason the daemon is not ready, shown by /readyz. */
  get reason(): string {
    return this.#ready ? 'ready' : this.#reason;
  }

  onChange(listener: (ready: boolean) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * The Neutron client's onCall hook. Any reply other than 401 and 5xx means
   * that Neutron accepted the token and works. The client retries a 401 with
   * a new token and reports that retry in a call of its own.
   */
  readonly onNeutronCall = (info: CallInfo): void => {
    if (info.status !== null && info.status !== 401 && info.status < 500) this.markReady();
  };

  markReady(): void {
    if (this.#ready) return;
    this.#ready = true;
    for (const listener of this.#listeners) listener(true);
  }

  /** Records why the last attempt to reach Keystone or Neutron failed, while not ready. */
  noteFailure(reason: string): void {
    this.#reason = reason;
  }
}
