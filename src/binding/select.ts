import { KuryrError } from '../errors.js';
import { OvsBinder } from './ovs.js';
import type { BoundInterface, PortBinder, PortBindingRequest } from './types.js';
import { VethBinder } from './veth.js';
import type { VethBinderOptions } from './veth.js';

/** The options of the veth binder, which the OVS binder shares where they apply. */
export type SelectingBinderOptions = VethBinderOptions;

/**
 * The binder that handles a vif_type:
 * - `ovs`: the built-in Open vSwitch plug, direct or hybrid as vif_details ask. It takes
 *   precedence over an `ovs` script in the bindir, so OVS ports need no script installed.
 * - `veth`: everything else. The veth binder plugs nothing for `bridge` and `tap`, runs the
 *   bindir script for other vif_types, and rejects ports that Neutron did not bind.
 */
export type BinderKind = 'veth' | 'ovs';

export function binderKindFor(vifType: string): BinderKind {
  return vifType === 'ovs' ? 'ovs' : 'veth';
}

/**
 * Chooses the binding from the port's `binding:vif_type`, which Neutron sets when it binds the
 * port to this host. Bind and unbind of one port reach the same binder because both requests
 * carry the port's binding.
 */
export class SelectingBinder implements PortBinder {
  readonly #veth: VethBinder;
  readonly #ovs: OvsBinder;

  constructor(options: SelectingBinderOptions) {
    this.#veth = new VethBinder(options);
    this.#ovs = new OvsBinder({ runner: options.runner, logger: options.logger });
  }

  bind(request: PortBindingRequest): Promise<BoundInterface> {
    return this.#binderFor(request).bind(request);
  }

  unbind(request: PortBindingRequest): Promise<void> {
    return this.#binderFor(request).unbind(request);
  }

  #binderFor(request: PortBindingRequest): PortBinder {
    const kind = binderKindFor(request.vifType);
    switch (kind) {
      case 'veth':
        return this.#veth;
      case 'ovs':
        return this.#ovs;
      default:
        throw new KuryrError('INTERNAL', `unhandled binder kind "${String(kind satisfies never)}"`);
    }
  }
}
