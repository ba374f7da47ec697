/**
 * Neutron trunks (the `trunk` extension): a parent port carrying untagged traffic plus subports,
 * each reached through one VLAN id on the parent. Nested VLAN binding puts container ports on the
 * VM port's trunk.
 */
import { z } from 'zod';
import type { NeutronApi } from './api.js';
import { ResourceApi } from './resource-api.js';
import type { CommonFilters } from './filters.js';

export const subportObject = z.object({
  port_id: z.string(),
  segmentation_type: z.string(),
  segmentation_id: z.number().int(),
});
export type Subport = z.infer<typeof subportObject>;

export const trunkObject = z.object({
  id: z.string(),
  name: z.string(),
  port_id: z.string(),
  status: z.string(),
  admin_state_up: z.boolean(),
  project_id: z.string(),
  sub_ports: z.array(subportObject.loose()),
  revision_number: z.number().int().optional(),
});
export type Trunk = z.infer<typeof trunkObject>;

export interface TrunkFilters extends CommonFilters {
  /** The parent port. */
  port_id?: string;
}

export interface TrunkCreate {
  port_id: string;
  name?: string;
  sub_ports?: Subport[];
}

/** The subport attributes `add_subports` needs; `segmentation_type` is always `vlan` here. */
export interface SubportAdd {
  port_id: string;
  segmentation_id: number;
}

export class TrunkApi {
  readonly #api: NeutronApi;
  readonly #resources: ResourceApi<Trunk, TrunkFilters, TrunkCreate, never>;

  constructor(api: NeutronApi, maxPages: number) {
    this.#api = api;
    this.#resources = new ResourceApi(api, { path: 'trunks', collectionKey: 'trunks', memberKey: 'trunk', label: 'trunk', object: trunkObject }, maxPages);
  }

  list(filters: TrunkFilters = {}): Promise<Trunk[]> {
    return this.#resources.list(filters);
  }

  get(id: string): Promise<Trunk> {
    return this.#resources.get(id);
  }

  create(body: TrunkCreate): Promise<Trunk> {
    return this.#resources.create(body);
  }

  delete(id: string, options: { ignoreNotFound?: boolean } = {}): Promise<void> {
    return this.#resources.delete(id, options);
  }

  /**
   * Adds VLAN subports and returns the trunk as Neutron stored it. Neutron rejects a port that is
   * already a subport and a segmentation id already used on the trunk (HTTP 409).
   */
  addSubports(trunkId: string, subports: readonly SubportAdd[]): Promise<Trunk> {
    const body = { sub_ports: subports.map((subport) => ({ ...subport, segmentation_type: 'vlan' })) };
    return this.#subportAction(trunkId, 'add_subports', body, `add subports to trunk "${trunkId}"`);
  }

  /** Removes subports by port id and returns the trunk. Neutron answers 404 for a port that is not a subport. */
  removeSubports(trunkId: string, portIds: readonly string[]): Promise<Trunk> {
    const body = { sub_ports: portIds.map((portId) => ({ port_id: portId })) };
    return this.#subportAction(trunkId, 'remove_subports', body, `remove subports from trunk "${trunkId}"`);
  }

  async #subportAction(trunkId: string, action: string, body: unknown, operation: string): Promise<Trunk> {
    const call = { method: 'PUT' as const, path: `/trunks/${encodeURIComponent(trunkId)}/${action}`, body, operation };
    // Unlike other updates, these two actions return the trunk without a `trunk` wrapper.
    return this.#api.parse(trunkObject.loose(), await this.#api.call(call), call);
  }
}
