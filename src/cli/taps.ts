/** The host ends of kuryr's veth pairs, for `kuryr gc`. */
import type { IpLink } from '../host/index.js';
import type { TapDevice } from './gc.js';

/** Lists veth devices named like kuryr's host ends: `tap` and 11 characters of a port id. */
export async function listVethTaps(ip: IpLink): Promise<TapDevice[]> {
  const taps: TapDevice[] = [];
  for (const link of await ip.listLinks('tap')) {
    if (!/^tap[0-9a-f-]{11}$/.test(link.ifName)) continue;
    const detail = await ip.showLink(link.ifName);
    if (detail?.kind === 'veth') taps.push({ ifName: link.ifName });
  }
  return taps;
}
