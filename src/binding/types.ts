/** The Neutron port data that the service layer passes to bind or unbind the port on this host. */
export interface PortBindingRequest {
  portId: string;
  endpointId: string;
  neutronNetworkId: string;
  projectId: string;
  macAddress: string;
  /** The Neutron network's MTU, applied to both ends of the veth pair. */
  mtu: number;
  /** The port's `binding:vif_type`, for example `bridge` or `ovs`. */
  vifType: string;
  /** The port's `binding:vif_details`. */
  vifDetails: Record<string, unknown>;
  /** The port's fixed IP addresses; nested binders allow them on the VM's port. */
  fixedIps?: string[];
  /** The port's `binding:vnic_type`; `direct`, `direct-physical` and `macvtap` select SR-IOV. */
  vnicType?: string;
  /** The port's `binding:profile`; SR-IOV reads the virtual function's `pci_slot` from it. */
  bindingProfile?: Record<string, unknown>;
}

/** The two ends of a port's veth pair: the host end stays on the host, Docker moves the container end. */
export interface BoundInterface {
  hostIfName: string;
  containerIfName: string;
}

export interface PortBinder {
  /** Creates and configures the port's host devices. Re-running it on an existing pair reconfigures that pair. */
  bind(request: PortBindingRequest): Promise<BoundInterface>;
  /** Removes the port's host devices; devices that are already gone count as removed. */
  unbind(request: PortBindingRequest): Promise<void>;
  /**
   * Returns the name of the device Docker moves into the container when it is not `t_c` + the
   * port id, as for an SR-IOV virtual function. Join calls it, possibly in a restarted daemon.
   */
  containerIfName?(request: PortBindingRequest): Promise<string | undefined>;
}
