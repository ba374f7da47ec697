/** Builds the Keystone session and Neutron client from the configuration, for the daemon and the CLI. */
import type { Logger } from 'pino';
import { resolveKeystoneSettings, type KuryrConfig } from '../config/index.js';
import { KeystoneSession, NeutronClient, NodeHttpTransport, tlsAgentOptions } from '../neutron/index.js';
import type { CallInfo, KeystoneOptions } from '../neutron/index.js';

export interface OpenStackClients {
  session: KeystoneSession;
  neutron: NeutronClient;
}

export function createOpenStackClients(config: KuryrConfig, logger: Logger, onCall?: (info: CallInfo) => void): OpenStackClients {
  const neutronConfig = config.neutron;
  const tls = { caFile: neutronConfig.cafile, certFile: neutronConfig.certfile, keyFile: neutronConfig.keyfile, insecure: neutronConfig.insecure };
  if (tls.insecure) {
    logger.warn('TLS certificate verification of Keystone and Neutron is off ([neutron] insecure): use cafile with the CA bundle instead');
  }
  const transport = new NodeHttpTransport({ tls: tlsAgentOptions(tls) });

  const { authUrl, credentials } = resolveKeystoneSettings(neutronConfig);
  const timeoutMs = neutronConfig.timeout * 1000;
  const sessionOptions: KeystoneOptions = { ...credentials, authUrl, transport, timeoutMs, logger };
  const session = new KeystoneSession(sessionOptions);
  const neutron = new NeutronClient({
    tokens: session,
    transport,
    endpoint:
      neutronConfig.endpoint_override === undefined
        ? { serviceType: 'network', interface: neutronConfig.endpoint_type, region: neutronConfig.region_name }
        : { url: neutronConfig.endpoint_override },
    timeoutMs,
    logger,
    ...(onCall === undefined ? {} : { onCall }),
  });
  return { session, neutron };
}
