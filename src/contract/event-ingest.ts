/**
 * The HTTP ingest's contract: where a namespace's events are POSTed, who may publish there, and the token a
 * publisher presents. The ingest serves it; tests, the README and RBAC roles are written against it.
 *
 * Publishers authenticate with a Kubernetes token whose audience is the ingest's own (a projected service
 * account token, `kubectl create token SA --audience events.cloudbase.dev`): a token for the API server's
 * audience is refused, so the ingest never holds a credential it could replay against the API server.
 * https://kubernetes.io/docs/concepts/storage/projected-volumes/#serviceaccounttoken
 * Publishing is authorized by the API server like any verb: `create` on `events.cloudbase.dev/events` in the
 * namespace (a SubjectAccessReview), which the ClusterRole `cloudbase-events-publisher` grants and which
 * namespace editors and admins hold through aggregation.
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#review-your-request-attributes
 */
import { isDns1123Label } from './names.js';

/** The audience a publisher's token must be issued for. */
export const INGEST_AUDIENCE = 'events.cloudbase.dev';

/** The request attributes the API server authorizes a publish against (a non-existent resource, like RBAC's own examples). */
export const PUBLISH_ACCESS = { verb: 'create', group: 'events.cloudbase.dev', resource: 'events' } as const;

/**
 * The largest body the ingest reads. A NATS message holds at most the server's max_payload (1 MiB by
 * default), so no single event can be larger; a batch larger than this is sent as several.
 * https://docs.nats.io/running-a-nats-service/configuration#limits
 */
export const MAX_INGEST_BODY_BYTES = 1024 * 1024;

/** The path a namespace's events are POSTed to. */
export function ingestPath(namespace: string): string {
  return `/namespaces/${namespace}/events`;
}

/** The namespace of an ingest path, or the reason the path names none. */
export function ingestNamespace(path: string): string | Error {
  const match = /^\/namespaces\/([^/]+)\/events\/?$/.exec(path);
  if (match === null)
    return new Error(`POST events to ${ingestPath('<namespace>')}; ${path} is not such a path`);
  const namespace = decodeURIComponent(match[1]!);
  if (!isDns1123Label(namespace))
    return new Error(
      `${JSON.stringify(namespace)} is not a namespace name (a DNS label of at most 63 characters)`,
    );
  return namespace;
}
