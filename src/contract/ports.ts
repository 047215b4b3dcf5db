/**
 * Names of the function container's ports: the webhook declares them, the controller's Service targets
 * `http` by name, and the probes use `admin`. Here, below both, so neither imports the other.
 */
export const PortName = {
  http: 'http',
  admin: 'admin',
} as const;
