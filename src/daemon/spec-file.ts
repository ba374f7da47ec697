/** The spec file dockerd reads to find a TCP plugin named kuryr. */
export const SPEC_FILE = '/usr/lib/docker/plugins/kuryr/kuryr.spec';
