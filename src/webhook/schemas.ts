// JSON schemas of what the webhook server accepts, in one module. Fastify validates request bodies with them
// before any handler runs, so a handler only ever sees a well-formed AdmissionReview of a Deployment: the
// fields the webhooks read or write must have the types the code relies on; all others pass through.

const string = { type: 'string' } as const;
// Go encodes an unset pointer or slice as null (a Deployment's unset selector arrives as "selector": null),
// so every object and list here may also be null; the code treats null as absent.
const stringArray = { type: ['array', 'null'], items: string } as const;
const stringMap = { type: ['object', 'null'], additionalProperties: string } as const;
const object = { type: ['object', 'null'] } as const;

function arrayOf(items: object): object {
  return { type: ['array', 'null'], items };
}

function named(properties: Record<string, object> = {}): object {
  return { type: 'object', required: ['name'], properties: { name: string, ...properties } };
}

const metadata = {
  type: ['object', 'null'],
  properties: {
    name: string,
    generateName: string,
    namespace: string,
    labels: stringMap,
    annotations: stringMap,
  },
};

const container = named({
  image: string,
  command: stringArray,
  args: stringArray,
  env: arrayOf(named({ value: string, valueFrom: object })),
  ports: arrayOf({
    type: 'object',
    required: ['containerPort'],
    properties: { name: string, containerPort: { type: 'integer' } },
  }),
  volumeMounts: arrayOf(named({ mountPath: string })),
  resources: { type: ['object', 'null'], properties: { requests: object, limits: object } },
  securityContext: object,
  readinessProbe: object,
  livenessProbe: object,
  terminationMessagePolicy: string,
});

const podSpec = {
  type: ['object', 'null'],
  properties: {
    containers: arrayOf(container),
    initContainers: arrayOf(container),
    volumes: arrayOf(named()),
    securityContext: object,
  },
};

const deployment = {
  type: ['object', 'null'],
  properties: {
    metadata,
    spec: {
      type: ['object', 'null'],
      properties: {
        selector: {
          type: ['object', 'null'],
          properties: { matchLabels: stringMap, matchExpressions: { type: ['array', 'null'] } },
        },
        template: { type: ['object', 'null'], properties: { metadata, spec: podSpec } },
      },
    },
  },
};

/** An `admission.k8s.io/v1` AdmissionReview carrying a request; see
 * https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request */
export const admissionReviewSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { const: 'admission.k8s.io/v1' },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 256 },
        kind: {
          type: 'object',
          required: ['group', 'version', 'kind'],
          properties: { group: string, version: string, kind: string },
        },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        namespace: string,
        name: string,
        object: deployment,
        dryRun: { type: 'boolean' },
      },
    },
  },
} as const;
