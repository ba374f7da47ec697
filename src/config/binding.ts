/**
 * The `[binding]` section: how kuryr-ts attaches a container to its Neutron port on this host.
 * Values may be kuryr-ts's short names or upstream Kuryr's module paths, so an upstream kuryr.conf
 * keeps working.
 */
import { z } from 'zod';

export const BINDING_DRIVERS = ['veth', 'macvlan', 'ipvlan', 'vlan', 'sriov'] as const;

/**
 * The binding driver:
 * - `veth`: a veth pair whose host end the L2 agent (or a vif_type script) plugs; Kuryr on a bare host.
 * - `macvlan`, `ipvlan`, `vlan`: Kuryr inside a VM ("nested"). Containers sit behind the VM's own
 *   Neutron port on `link_iface`, as extra addresses (`macvlan`, `ipvlan`) or as trunk subports (`vlan`).
 * - `sriov`: a virtual function of an SR-IOV NIC, for ports whose `binding:vnic_type` is `direct`.
 */
export type BindingDriver = (typeof BINDING_DRIVERS)[number];

/** Drivers whose containers hang off the VM interface named by `link_iface`. */
export const NESTED_DRIVERS: readonly BindingDriver[] = ['macvlan', 'ipvlan', 'vlan'];

/**
 * Upstream names and what they mean here. kuryr-lib's binding modules are `kuryr.lib.binding.drivers.*`
 * (`hw_veb` is its SR-IOV driver). kuryr-libnetwork's port drivers are
 * `kuryr_libnetwork.port_driver.drivers.*`; its `nested` port driver binds with macvlan unless
 * kuryr-lib's ipvlan driver is chosen, so `nested` maps to `macvlan`.
 */
const UPSTREAM_NAMES: Readonly<Record<string, BindingDriver>> = {
  'kuryr.lib.binding.drivers.veth': 'veth',
  'kuryr.lib.binding.drivers.macvlan': 'macvlan',
  'kuryr.lib.binding.drivers.ipvlan': 'ipvlan',
  'kuryr.lib.binding.drivers.vlan': 'vlan',
  'kuryr.lib.binding.drivers.hw_veb': 'sriov',
  'kuryr_libnetwork.port_driver.drivers.veth': 'veth',
  'kuryr_libnetwork.port_driver.drivers.nested': 'macvlan',
  'kuryr_libnetwork.port_driver.drivers.vlan': 'vlan',
  'kuryr_libnetwork.port_driver.drivers.sriov': 'sriov',
  nested: 'macvlan',
  hw_veb: 'sriov',
};

/** Returns the driver that `name` stands for (a short name or an upstream module path), or undefined. */
export function parseBindingDriver(name: string): BindingDriver | undefined {
  const trimmed = name.trim();
  if ((BINDING_DRIVERS as readonly string[]).includes(trimmed)) return trimmed as BindingDriver;
  return UPSTREAM_NAMES[trimmed];
}

const ALLOWED_TEXT = `${BINDING_DRIVERS.join(', ')} or an upstream name such as kuryr.lib.binding.drivers.macvlan`;

const driverName = z.string().transform((value, context) => {
  const driver = parseBindingDriver(value);
  if (driver !== undefined) return driver;
  context.addIssue({ code: 'custom', message: `unknown binding driver "${value}": expected ${ALLOWED_TEXT}` });
  return z.NEVER;
});

/** oslo.config list values are comma separated; the ini package may also hand over an array. */
const driverList = z.union([z.string(), z.array(z.string())]).transform((value, context) => {
  const names = (Array.isArray(value) ? value : value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  const drivers: BindingDriver[] = [];
  for (const name of names) {
    const driver = parseBindingDriver(name);
    if (driver === undefined) {
      context.addIssue({ code: 'custom', message: `unknown binding driver "${name}": expected ${ALLOWED_TEXT}` });
      return z.NEVER;
    }
    if (!drivers.includes(driver)) drivers.push(driver);
  }
  return drivers;
});

// The same rule as the host layer's validateIfName: at most 15 bytes (the kernel limit), and no character
// that `ip` could read as an option or that would break a sysfs path.
const interfaceName = z.string().regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$/, 'expected an interface name of 1 to 15 characters from A-Z, a-z, 0-9, "_", "." and "-", such as eth0');

export const bindingSectionSchema = z
  .object({
    /** Upstream's deprecated alias of `default_driver`. Both are read, and `driver` wins when both are set. */
    driver: driverName.optional(),
    default_driver: driverName.optional(),
    enabled_drivers: driverList.optional(),
    link_iface: z.union([z.literal(''), interfaceName]).default(''),
  })
  .transform((section, context) => {
    const driver = section.driver ?? section.default_driver ?? 'veth';
    // Upstream's default enabled list contains only veth, so its documented nested setup fails until
    // enabled_drivers is also set. Here an omitted list means "the chosen driver".
    const enabledDrivers = section.enabled_drivers ?? [driver];
    if (!enabledDrivers.includes(driver)) {
      context.addIssue({
        code: 'custom',
        path: ['enabled_drivers'],
        message: `binding driver "${driver}" is not enabled: enabled_drivers is "${enabledDrivers.join(',')}", so add ${driver} to it`,
      });
    }
    if (NESTED_DRIVERS.includes(driver) && section.link_iface === '') {
      context.addIssue({
        code: 'custom',
        path: ['link_iface'],
        message: `missing: binding driver "${driver}" needs link_iface, the VM interface whose Neutron port carries the containers, such as eth0`,
      });
    }
    return { driver, enabledDrivers, linkIface: section.link_iface };
  });

export type BindingConfig = z.infer<typeof bindingSectionSchema>;

/** Keys of the `[binding]` section that kuryr-ts reads. */
export const BINDING_KEYS: readonly string[] = ['driver', 'default_driver', 'enabled_drivers', 'link_iface'];
