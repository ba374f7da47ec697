/**
 * The lab's Neutron L2 back end, for tests whose expectations depend on it,
 * and ovs-vsctl on the lab's Open vSwitch.
 */
import { readFile } from 'node:fs/promises';
import { command } from './lab.js';

/** `linuxbridge` (the default) or `ovs`, as `LAB_L2` selects when lab/up.sh runs. */
export type LabL2Mode = 'linuxbridge' | 'ovs';

const L2_MODE_FILE = '/run/kuryr-lab/l2-mode';
const OVS_RUNDIR = '/var/lib/kuryr-lab/ovs/run';

/**
 * Reads the mode that lab/up.sh last started the lab in. A lab started before the OVS mode
 * existed has no mode file and runs linuxbridge.
 */
export async function labL2Mode(): Promise<LabL2Mode> {
  let text: string;
  try {
    text = (await readFile(L2_MODE_FILE, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'linuxbridge';
    throw error;
  }
  switch (text) {
    case 'linuxbridge':
    case 'ovs':
      return text;
    default:
      throw new Error(`unknown L2 mode "${text}" in ${L2_MODE_FILE}: expected linuxbridge or ovs`);
  }
}

/** The expectations that differ between the two modes. */
export interface L2Expectations {
  /** The `binding:vif_type` Neutron gives kuryr's ports. */
  vifType: string;
  /** The MTU of a network created without options: VXLAN (1450) or local (1500). */
  tenantNetworkMtu: number;
}

export function l2Expectations(mode: LabL2Mode): L2Expectations {
  switch (mode) {
    case 'linuxbridge':
      return { vifType: 'bridge', tenantNetworkMtu: 1450 };
    case 'ovs':
      return { vifType: 'ovs', tenantNetworkMtu: 1500 };
  }
}

/**
 * Runs ovs-vsctl against the lab's ovsdb-server, through its unix socket, and returns stdout.
 * `--timeout` keeps a stopped ovsdb-server from hanging the test.
 */
export async function labOvsVsctl(...args: string[]): Promise<string> {
  const output = await command(['ovs-vsctl', '--timeout=10', ...args], { OVS_RUNDIR });
  if (output.code !== 0) throw new Error(`ovs-vsctl ${args.join(' ')} exited ${output.code}: ${output.stderr.trim()}`);
  return output.stdout.trim();
}
