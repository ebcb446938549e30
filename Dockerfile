# syntax=docker/dockerfile:1
# mithai in a container (docs/deployment.md). The runtime is installed in /opt/mithai with the
# `mithai` binary on the PATH; the project in /srv/mithai is this repository's own (config.yaml,
# skills/example, memory/MEMORY.md); its state and memory are volumes.
#
#   docker build -t mithai .
#   docker run -d --name mithai --init --env-file .env --stop-timeout 45 \
#     -v mithai-state:/srv/mithai/.mithai -v mithai-memory:/srv/mithai/memory mithai
#
# The entry point is the mithai binary in exec form, so SIGTERM from `docker stop` reaches
# mithai itself and it shuts down cleanly. Never `npx mithai run` or `npm start` here: npm and
# its shell take the signal and mithai never shuts down cleanly.

FROM node:20-slim AS build
# better-sqlite3 takes a prebuilt binary when one can be downloaded, else compiles one.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/mithai
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin/ bin/
COPY src/ src/
COPY skills/ skills/
COPY templates/ templates/
# skills/ here is the built-in skills only; the example is part of the project below.
RUN rm -rf skills/example

FROM node:20-slim
RUN groupadd --system --gid 10001 mithai \
 && useradd --system --uid 10001 --gid mithai --home-dir /srv/mithai --no-create-home --shell /usr/sbin/nologin mithai
COPY --from=build /opt/mithai /opt/mithai
RUN ln -s /opt/mithai/bin/mithai.js /usr/local/bin/mithai
WORKDIR /srv/mithai
# The project: configuration and skills stay owned by root (mithai cannot change them); state
# and memory belong to the mithai user. Secrets come from the environment (--env-file), never
# from a file in the image.
COPY config.yaml slack-manifest.yaml ./
COPY skills/example/ skills/example/
COPY memory/MEMORY.md memory/
RUN mkdir -p .mithai/state \
 && chown -R mithai:mithai .mithai memory \
 && chmod 0700 .mithai .mithai/state
USER mithai
VOLUME ["/srv/mithai/.mithai", "/srv/mithai/memory"]
# Healthy while `mithai run` is connected to Slack: it rewrites .mithai/state/run.heartbeat every
# 10 s while connected and removes it when it stops.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "-e", "const f='.mithai/state/run.heartbeat';let age;try{age=Date.now()-require('fs').statSync(f).mtimeMs}catch{console.log('no '+f+': mithai run is not connected to Slack');process.exit(1)}if(age>60000){console.log(f+' is '+Math.round(age/1000)+' s old: mithai run is not connected to Slack');process.exit(1)}"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["mithai"]
CMD ["run"]
