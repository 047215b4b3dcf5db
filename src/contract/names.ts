// Kubernetes object-name rules, as documented in
// https://kubernetes.io/docs/concepts/overview/working-with-objects/names/

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A DNS-1035 label: what a Service name must be, so what a function name must be. */
export function isDns1035Label(value: string): boolean {
  return value.length <= 63 && DNS1035_LABEL.test(value);
}

/** A DNS-1123 label: what a namespace name must be. */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

/** A DNS-1123 subdomain: what most object names (ConfigMaps, Deployments) and host names must be. */
export function isDns1123Subdomain(value: string): boolean {
  return (
    value.length <= 253 && value.split('.').every((part) => part.length <= 63 && DNS1123_LABEL.test(part))
  );
}
