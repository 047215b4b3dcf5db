# syntax=docker/dockerfile:1
# Cloudbase images. Targets:
#   cloudbase          the webhook and the controller: `cloudbase webhook ...`, `cloudbase controller ...`
#   runtime-nodejs22   the function runtime and its build steps: `cloudbase-runtime serve|fetch|install`
#   runtime-nodejs20, runtime-nodejs24
# Base images are build arguments so a cluster without a registry can build from images it made itself
# (buildah build --pull=never --build-arg NODE22_IMAGE=...; cluster/build-cloudbase-images.sh does this).
# Every final stage runs as uid 1000, holds no compiler, and works with a read-only root filesystem.
# A runtime base image must have `node` and `npm` on PATH (the install step runs `npm ci`) and
# /usr/bin/env (the `#!/usr/bin/env node` of `cloudbase-runtime` and of npm itself).
ARG NODE_BUILD_IMAGE=docker.io/library/node:22-bookworm-slim
ARG NODE20_IMAGE=docker.io/library/node:20-bookworm-slim
ARG NODE22_IMAGE=docker.io/library/node:22-bookworm-slim
ARG NODE24_IMAGE=docker.io/library/node:24-bookworm-slim

# ---- build: compile TypeScript, keep production dependencies only ----
# The only step that needs a network is `npm ci` (the npm registry). Behind a proxy that inspects TLS, pass
# the CA bundle of the base image: --build-arg NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
# (npm trusts only Node's built-in CAs otherwise). It stays in this stage: no final image inherits it.
FROM ${NODE_BUILD_IMAGE} AS build
ARG NODE_EXTRA_CA_CERTS
ENV npm_config_update_notifier=false
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

# ---- cloudbase: webhook and controller ----
FROM ${NODE22_IMAGE} AS cloudbase
WORKDIR /opt/cloudbase
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "/opt/cloudbase/dist/cli/main.js"]
CMD ["webhook", "--cert-dir", "/etc/cloudbase/certs"]

# ---- runtime-root: the runtime's files laid out as they go into every runtime image ----
# The runtime imports pino, prom-client and tar (on plain node:http); the Kubernetes client, the CRD models,
# fastify, the certificate and JSON Patch libraries are the webhook's and the controller's: dropped here,
# offline, from the tree the build stage installed.
FROM build AS runtime-root
RUN npm pkg delete dependencies.@kubernetes/client-node dependencies.@kubernetes-models/traefik \
      dependencies.node-forge dependencies.fast-json-patch dependencies.fastify \
 && npm prune --omit=dev --offline --no-audit --no-fund --ignore-scripts \
 && mkdir -p /root-fs/opt/cloudbase /root-fs/usr/local/bin \
 && find node_modules -depth -type d -empty -exec rmdir {} \; \
 && cp -a package.json node_modules dist /root-fs/opt/cloudbase/ \
 && chmod 0755 /root-fs/opt/cloudbase/dist/runtime/main.js \
 && ln -s /opt/cloudbase/dist/runtime/main.js /root-fs/usr/local/bin/cloudbase-runtime

# ---- runtimes: one image per Node.js major; `cloudbase-runtime` on PATH is what the webhook injects ----
# HOME and npm's cache point at /tmp, the one writable place (an emptyDir) under a read-only root.
FROM ${NODE22_IMAGE} AS runtime-nodejs22
COPY --from=runtime-root /root-fs/ /
WORKDIR /workspace
ENV NODE_ENV=production CLOUDBASE_WORKSPACE=/workspace HOME=/tmp npm_config_cache=/tmp/.npm
USER 1000:1000
EXPOSE 8080 9090
ENTRYPOINT ["cloudbase-runtime"]
CMD ["serve"]

FROM ${NODE20_IMAGE} AS runtime-nodejs20
COPY --from=runtime-root /root-fs/ /
WORKDIR /workspace
ENV NODE_ENV=production CLOUDBASE_WORKSPACE=/workspace HOME=/tmp npm_config_cache=/tmp/.npm
USER 1000:1000
EXPOSE 8080 9090
ENTRYPOINT ["cloudbase-runtime"]
CMD ["serve"]

FROM ${NODE24_IMAGE} AS runtime-nodejs24
COPY --from=runtime-root /root-fs/ /
WORKDIR /workspace
ENV NODE_ENV=production CLOUDBASE_WORKSPACE=/workspace HOME=/tmp npm_config_cache=/tmp/.npm
USER 1000:1000
EXPOSE 8080 9090
ENTRYPOINT ["cloudbase-runtime"]
CMD ["serve"]
