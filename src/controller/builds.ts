/**
 * Image builds of the functions that build into images (`cloudbase.dev/build: image`, or the default with a
 * registry): reads the build input and the function's build Jobs, asks builder/decide.ts what to do, and
 * does it. The image it records on the Deployment is what the mutating webhook then runs (and unpauses).
 * A ConfigMap source is read at each reconcile of its function; an edit of it re-queues the function
 * (controller.ts watchSources), so it builds at once.
 */
import type { V1Deployment, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  BuildStatus,
  buildKey,
  builtImageOf,
  configMapDigest,
  functionRepository,
  resolveBuild,
  tarballDigest,
} from '../contract/build.js';
import { StatusAnnotation } from '../contract/annotations.js';
import type { FunctionSpec, Runtime } from '../contract/function-spec.js';
import { decideBuild, type BuildAction, type ObservedJob } from '../builder/decide.js';
import {
  BUILDER_FORMAT,
  dependenciesSalt,
  desiredBuildJob,
  type BuildRequest,
  type BuildSettings,
} from '../builder/job.js';
import { BuildLabel } from '../builder/labels.js';
import { buildOutcome } from '../builder/outcome.js';
import { planBuild } from '../builder/plan.js';
import { buildHistoryOf, keptBuilds } from '../builder/retention.js';
import { applyObject, isNotFound, mergePatch, type Kube } from '../kube/client.js';
import type { EventRecorder } from './events.js';
import type { Cache } from './informers.js';
import type { FunctionEvent } from './plan.js';

export interface BuildsDeps {
  kube: Kube;
  jobs: Cache<V1Job>;
  /** The build Jobs' pods. */
  pods: Cache<V1Pod>;
  events: EventRecorder;
  logger: Logger;
  settings: BuildSettings;
  /** The image each runtime's builds put their layers on. */
  baseImages: Readonly<Record<Runtime, string>>;
  /** The runtime images the webhook injects, which the build steps run in. */
  runtimeImages: Readonly<Record<Runtime, string>>;
  assertLeading: (what: string) => void;
}

/** The label the Job controller puts on a Job's pods. https://kubernetes.io/docs/reference/labels-annotations-taints/#batchkubernetesiojob-name */
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

export class FunctionBuilds {
  constructor(private readonly deps: BuildsDeps) {}

  async reconcile(deployment: V1Deployment, spec: FunctionSpec): Promise<void> {
    const { settings } = this.deps;
    if (resolveBuild(spec, settings.registry) !== 'image') return;
    const { namespace = '', name = '', uid = '' } = deployment.metadata ?? {};
    const context = { namespace, name, uid };
    const annotations = deployment.metadata?.annotations ?? {};
    const baseImage = this.deps.baseImages[spec.runtime];
    const source = await this.readSource(spec);
    if (source instanceof Error) {
      await this.report(deployment, annotations, 'source', source.message);
      return;
    }
    const key = buildKey({
      sourceDigest: source.digest,
      baseImage,
      builder: `${settings.assemblerImage} ${BUILDER_FORMAT}`,
    });
    const jobs = this.observe(namespace, uid);
    const built = builtImageOf(annotations);
    const keep = keptBuilds(buildHistoryOf(annotations, built), key, settings.keepImages);
    const action = decideBuild({
      key,
      built,
      status: annotations[StatusAnnotation.buildStatus],
      jobs,
    });
    const planned = planBuild(
      source.files,
      dependenciesSalt(baseImage, settings),
      annotations[StatusAnnotation.buildDependencies],
      functionRepository(settings.registry, spec.namespace, spec.name),
    );
    await this.execute(
      deployment,
      {
        spec,
        owner: { name, uid },
        key,
        baseImage,
        stepImage: this.deps.runtimeImages[spec.runtime],
        keep,
        ...planned,
      },
      action,
      context,
    );
  }

  /** The source's content digest and, for a ConfigMap, its files; or why it cannot be read (a missing one). */
  private async readSource(
    spec: FunctionSpec,
  ): Promise<{ digest: string; files?: Readonly<Record<string, string>> } | Error> {
    if (spec.source.kind === 'https') return { digest: tarballDigest(spec.source) };
    if (spec.source.kind !== 'configmap') return new Error('the source is an image: nothing to build');
    try {
      const map = await this.deps.kube.core.readNamespacedConfigMap({
        namespace: spec.namespace,
        name: spec.source.configMapName,
      });
      return { digest: configMapDigest(map.data, map.binaryData), files: map.data ?? {} };
    } catch (error) {
      if (isNotFound(error))
        return new Error(
          `the source ConfigMap ${spec.namespace}/${spec.source.configMapName} does not exist: create it (kubectl create configmap ${spec.source.configMapName} --from-file=...)`,
        );
      throw error;
    }
  }

  /** The function's build Jobs with what became of each (a running one's pod says whether it is stuck). */
  private observe(namespace: string, uid: string): ObservedJob[] {
    const owned = this.deps.jobs
      .list(namespace)
      .filter((job) => job.metadata?.ownerReferences?.some((ref) => ref.uid === uid) === true);
    return owned.map((job) => ({
      name: job.metadata?.name ?? '',
      key: job.metadata?.annotations?.[BuildLabel.input] ?? '',
      ...(job.metadata?.annotations?.[BuildLabel.dependencies] === undefined
        ? {}
        : { dependencies: job.metadata.annotations[BuildLabel.dependencies] }),
      outcome: buildOutcome(job, this.podsOf(namespace, job.metadata?.name ?? '')),
    }));
  }

  private podsOf(namespace: string, job: string): V1Pod[] {
    return this.deps.pods.list(namespace).filter((pod) => pod.metadata?.labels?.[JOB_NAME_LABEL] === job);
  }

  private async execute(
    deployment: V1Deployment,
    request: BuildRequest,
    action: BuildAction,
    context: Record<string, string>,
  ): Promise<void> {
    const { kube, logger, settings } = this.deps;
    for (const job of action.remove) {
      this.deps.assertLeading(`removal of build Job ${context.namespace}/${job}`);
      await kube.batch
        .deleteNamespacedJob({ namespace: context.namespace!, name: job, propagationPolicy: 'Background' })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      logger.info({ ...context, job }, 'build Job removed');
    }
    const annotations = deployment.metadata?.annotations ?? {};
    switch (action.action) {
      case 'none':
        return;
      case 'wait':
        if (action.waiting !== undefined) {
          logger.warn({ ...context, reason: action.waiting }, 'build waits');
          await this.event(deployment, {
            type: 'Warning',
            reason: 'BuildPending',
            message: `${action.waiting}; the build starts when it can, or fails at its ${settings.deadlineSeconds} s deadline`,
          });
        }
        return;
      case 'start': {
        const job = desiredBuildJob(request, settings);
        const { key } = request;
        this.deps.assertLeading(`build of ${context.namespace}/${context.name}`);
        await applyObject(kube, job);
        logger.info({ ...context, job: job.metadata?.name, key }, 'build started');
        await this.status(deployment, { [StatusAnnotation.buildStatus]: BuildStatus.building });
        await this.event(deployment, {
          type: 'Normal',
          reason: 'BuildStarted',
          message: `building the function's image in Job ${job.metadata?.name} (input ${key.slice(0, 12)})`,
        });
        return;
      }
      case 'record': {
        this.deps.assertLeading(`image of ${context.namespace}/${context.name}`);
        await this.status(deployment, {
          [StatusAnnotation.image]: action.image,
          [StatusAnnotation.buildInput]: request.key,
          [StatusAnnotation.buildStatus]: BuildStatus.succeeded,
          [StatusAnnotation.buildDependencies]: action.dependencies ?? null,
          [StatusAnnotation.buildHistory]: request.keep.join(' '),
        });
        const took = action.seconds === undefined ? '' : ` in ${action.seconds} s`;
        const removed = action.pruned?.removed ?? 0;
        const pruned = removed === 0 ? '' : `; removed ${removed} older image${removed === 1 ? '' : 's'}`;
        logger.info(
          { ...context, image: action.image, seconds: action.seconds, pruned: action.pruned },
          'build succeeded',
        );
        await this.event(deployment, {
          type: 'Normal',
          reason: 'BuildSucceeded',
          message: `built ${action.image}${took}${pruned}`,
        });
        if (action.pruned?.failed !== undefined)
          await this.event(deployment, {
            type: 'Warning',
            reason: 'ImagesNotRemoved',
            message: `the build could not delete the function's older images from the registry (the next build tries again): ${action.pruned.failed}`,
          });
        return;
      }
      case 'report':
        await this.report(deployment, annotations, action.step, action.message);
        return;
    }
  }

  /** Says once why the build failed; the image the function runs (if any) stays. */
  private async report(
    deployment: V1Deployment,
    annotations: Readonly<Record<string, string>>,
    step: string,
    message: string,
  ): Promise<void> {
    const { namespace, name, uid } = deployment.metadata ?? {};
    this.deps.logger.warn({ namespace, name, uid, step, reason: message }, 'build failed');
    if (annotations[StatusAnnotation.buildStatus] !== BuildStatus.failed)
      await this.status(deployment, { [StatusAnnotation.buildStatus]: BuildStatus.failed });
    const keeps = builtImageOf(annotations);
    await this.event(deployment, {
      type: 'Warning',
      reason: 'BuildFailed',
      message: `the build failed at ${step}: ${message}${keeps === undefined ? '' : `; the function keeps running ${keeps.image}`}`,
    });
  }

  private async status(deployment: V1Deployment, annotations: Record<string, string | null>): Promise<void> {
    this.deps.assertLeading(`build status of ${deployment.metadata?.namespace}/${deployment.metadata?.name}`);
    await mergePatch(this.deps.kube, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: deployment.metadata?.name,
        namespace: deployment.metadata?.namespace,
        annotations: annotations as Record<string, string>,
      },
    });
  }

  private event(deployment: V1Deployment, event: FunctionEvent): Promise<void> {
    return this.deps.events.record(deployment, event);
  }
}
