/** Where dockerd looks for the spec file of a TCP plugin named kuryr. */
export const SPEC_FILE = '/usr/lib/docker/plugins/kuryr/kuryr.spec';
