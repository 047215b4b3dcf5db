/**
 * The build Job's two shell steps around crane (busybox sh in the assembler image). Their inputs come as
 * environment variables and files in the build folder (src/workspace/layers.ts LayerFile), never spliced
 * into the script text, so no value can change what the script does.
 */
import { BuildLayout, LayerFile } from '../contract/runtime-env.js';

export const BuildScriptEnv = {
  /** `<registry>/<namespace>/<function>`. */
  repository: 'CLOUDBASE_REPOSITORY',
  /** The runtime image the layers go on. */
  baseImage: 'CLOUDBASE_BASE_IMAGE',
  /** The build input's key: the pushed image is tagged `build-<key>`. */
  key: 'CLOUDBASE_BUILD_KEY',
  /** `--insecure` for a plain-HTTP registry, else empty. */
  craneFlags: 'CLOUDBASE_CRANE_FLAGS',
  /** A code-only build's base: the dependencies image of the function's last build (`<repository>:deps-<key>`). */
  depsImage: 'CLOUDBASE_DEPS_IMAGE',
  /** A file to wait for before assembling: the end of the code step running beside it (RuntimeEnv.buildDone). */
  waitFor: 'CLOUDBASE_WAIT_FOR',
  /** The build inputs whose images stay after this build, space-separated (retention.ts keptBuilds). */
  keep: 'CLOUDBASE_KEEP_BUILDS',
} as const;

/** How the assembler's termination message reports the clean-up, on the line after the image. */
export const PRUNE_REPORT = /^removed (\d+) older images?(?:; could not remove (.+))?$/;

const out = BuildLayout.outDir;
const E = BuildScriptEnv;

/**
 * `cache`: when the function has dependencies, asks the registry for the image of its dependencies layer
 * (`<repository>:deps-<key>`) and leaves its digest in `deps-cached`. A miss, or a registry that does not
 * answer, means `npm ci` runs; the push then says what is wrong with the registry.
 */
export function cacheScript(): string {
  return [
    'set -u',
    `if [ ! -s ${out}/${LayerFile.depsKey} ]; then echo "cloudbase cache: no dependencies"; exit 0; fi`,
    `ref="$${E.repository}:deps-$(cat ${out}/${LayerFile.depsKey})"`,
    // Word splitting of the flags is wanted: empty, or --insecure.
    `if digest=$(crane digest $${E.craneFlags} "$ref" 2>/tmp/crane.err); then`,
    `  echo "$digest" > ${out}/${LayerFile.depsCached}`,
    '  echo "cloudbase cache: $ref is in the registry ($digest)"',
    'else',
    '  echo "cloudbase cache: $ref is not in the registry: $(tail -n 1 /tmp/crane.err)"',
    'fi',
  ].join('\n');
}

/**
 * `assemble`: pushes the dependencies layer (when installed now) as `<repository>:deps-<key>`, then the code
 * layer on it, or on the cached dependencies image, or on the last build's (a code-only build), or on the
 * runtime image, as `<repository>:build-<key>`,
 * and writes the pinned image (`<repository>@sha256:...`, crane's output) to the termination message.
 */
export function assembleScript(): string {
  return [
    'set -eu',
    `if [ -n "$\{${E.waitFor}:-}" ]; then`,
    `  until [ -e "$${E.waitFor}" ]; do sleep 0.1; done`,
    `  if [ "$(head -c 1 "$${E.waitFor}")" != 0 ]; then`,
    `    echo "cloudbase assemble: nothing to assemble, the code step failed: $(cat "$${E.waitFor}")" >&2`,
    '    exit 1',
    '  fi',
    'fi',
    `base="$${E.baseImage}"`,
    `if [ -s ${out}/${LayerFile.deps} ]; then`,
    `  deps="$${E.repository}:deps-$(cat ${out}/${LayerFile.depsKey})"`,
    `  base=$(crane append $${E.craneFlags} -b "$base" -f ${out}/${LayerFile.deps} -t "$deps")`,
    '  echo "cloudbase assemble: pushed the dependencies layer as $deps ($base)"',
    `elif [ -s ${out}/${LayerFile.depsCached} ]; then`,
    `  base="$${E.repository}@$(cat ${out}/${LayerFile.depsCached})"`,
    `elif [ -n "$\{${E.depsImage}:-}" ]; then`,
    `  base="$${E.depsImage}"`,
    'fi',
    `image=$(crane append $${E.craneFlags} -b "$base" -f ${out}/${LayerFile.code} -t "$${E.repository}:build-$${E.key}")`,
    'echo "cloudbase assemble: pushed $image on $base"',
    pruneScript(),
    'printf "%s\\n%s" "$image" "$report" > /dev/termination-log',
  ].join('\n');
}

/**
 * After the push: deletes the function's images other than those of the kept build inputs and the
 * dependencies image this build used, by digest (the registry's API deletes manifests, not tags, and a
 * manifest's deletion removes its tags). A digest a kept tag names is never deleted, even under another
 * tag. Leaves `report` for the termination message; a failure to delete does not fail the build, it is
 * reported (the next build tries again). Only `build-*` and `deps-*` tags are Cloudbase's to delete.
 * https://distribution.github.io/distribution/spec/api/#deleting-an-image
 */
function pruneScript(): string {
  return [
    'keep=""',
    `for k in $\{${E.keep}:-}; do keep="$keep build-$k"; done`,
    `if [ -s ${out}/${LayerFile.depsKey} ]; then keep="$keep deps-$(cat ${out}/${LayerFile.depsKey})";`,
    `elif [ -n "$\{${E.depsImage}:-}" ]; then keep="$keep $\{${E.depsImage}##*:}"; fi`,
    'removed=0; failed=""',
    `if ! tags=$(crane ls $${E.craneFlags} "$${E.repository}" 2>/tmp/prune.err); then`,
    '  failed="the list of tags: $(tail -n 1 /tmp/prune.err)"; tags=""',
    'fi',
    'kept="${image##*@}"',
    'for t in $keep; do',
    '  case " $(echo $tags) " in *" $t "*) ;; *) continue;; esac',
    `  if d=$(crane digest $${E.craneFlags} "$${E.repository}:$t" 2>/dev/null); then kept="$kept $d"; fi`,
    'done',
    'for t in $tags; do',
    '  case "$t" in build-*|deps-*) ;; *) continue;; esac',
    '  case " $keep " in *" $t "*) continue;; esac',
    `  if ! d=$(crane digest $${E.craneFlags} "$${E.repository}:$t" 2>/tmp/prune.err); then`,
    '    failed="$t: $(tail -n 1 /tmp/prune.err)"; continue',
    '  fi',
    '  case " $kept " in *" $d "*) continue;; esac',
    `  if crane delete $${E.craneFlags} "$${E.repository}@$d" 2>/tmp/prune.err; then`,
    '    removed=$((removed + 1)); echo "cloudbase prune: deleted $t ($d)"',
    '  else',
    '    failed="$t: $(tail -n 1 /tmp/prune.err)"',
    '  fi',
    'done',
    'report="removed $removed older images"',
    '[ -z "$failed" ] || report="$report; could not remove $(printf %s "$failed" | head -c 300)"',
    'echo "cloudbase prune: $report"',
  ].join('\n');
}
