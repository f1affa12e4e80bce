# syntax=docker/dockerfile:1
# One image per service: docker build --build-arg SERVICE=auth --build-arg GALION_VERSION=0.1.0 -t galion/auth:0.1.0 .
# SERVICE names a service of services.json (the workspace package @galion/<SERVICE>).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV PNPM_HOME=/pnpm CI=true
WORKDIR /src
RUN npm install --global --no-audit --no-fund pnpm@10.34.9
# The lockfile alone first: `pnpm fetch` downloads every dependency into the store, and that layer
# is cached until the lockfile changes (and shared by every service: SERVICE comes after it). A
# source change then only links the dependencies (--offline) and builds.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
# The patches the workspace names (patchedDependencies), applied when the dependencies are linked.
COPY patches ./patches
RUN pnpm fetch --frozen-lockfile
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<a service of services.json>" >&2 && exit 1)
COPY package.json tsconfig.base.json tsconfig.json ./
COPY apps ./apps
COPY packages ./packages
COPY services ./services
# The gateway serves the web app: its Vite build (apps/web/dist) ships inside the gateway image as
# the @galion/web dependency, so one image and one rollout carry the API edge and the pages; the
# docs page's renderer is its swagger-ui-dist dependency, read from node_modules at start-up, and
# /track.js is its @galion/track dependency's dist/track.min.js (built by esbuild after tsc -b).
# Loading the deployed service (its dist/service.js, which starts nothing) proves /out has every
# module it needs at run time, native ones too: media's sharp loads its prebuilt binary and libvips
# (@img/sharp-linux-x64, @img/sharp-libvips-linux-x64, optional dependencies fetched for this
# platform) only then.
RUN pnpm install --frozen-lockfile --offline \
 && pnpm exec tsc -b \
 && pnpm --filter @galion/track run build \
 && if [ "${SERVICE}" = gateway ]; then pnpm --filter @galion/web run build; fi \
 && pnpm deploy --legacy --filter "@galion/${SERVICE}" --prod /out \
 && test -f "/out/dist/main.js" \
 && node -e 'require("/out/dist/service.js")' \
 && if [ "${SERVICE}" = gateway ]; then test -f /out/node_modules/@galion/web/dist/index.html \
      && test -f /out/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
      && test -f /out/node_modules/@galion/track/dist/track.min.js; fi

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="galion-${SERVICE}" \
      org.opencontainers.image.description="Galion ${SERVICE} service" \
      org.opencontainers.image.licenses="Apache-2.0"
# No package managers at run time; a non-root user with a fixed uid the charts rely on (10001).
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && groupadd --gid 10001 galion \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin galion
ENV NODE_ENV=production PORT=8080 METRICS_PORT=9464
WORKDIR /app
COPY --from=build --chown=0:0 /out /app
# What this build is, for the galion_build_info metric. Declared last: a rebuild that changes only
# them reuses every layer above.
ARG GALION_VERSION=dev
ARG GALION_REVISION=unknown
LABEL org.opencontainers.image.version="${GALION_VERSION}" org.opencontainers.image.revision="${GALION_REVISION}"
ENV GALION_VERSION="${GALION_VERSION}" GALION_REVISION="${GALION_REVISION}"
USER 10001:10001
EXPOSE 8080 9464
CMD ["node", "dist/main.js"]
