import { brotliCompressSync, constants as zlib } from "node:zlib";
import type { AppBundle } from "./app-bundle";

/** Node.js release every instance runs (24 LTS). Bump deliberately: the boot test builds a mirror for this version. */
export const NODE_VERSION = "24.21.0";

export const SERVICE_USER = "seckill";
export const APP_HOME = "/opt/seckill";
export const ENV_FILE = "/etc/seckill/seckill.env";
export const UNIT_FILE = "/etc/systemd/system/seckill.service";
export const SYSCTL_FILE = "/etc/sysctl.d/90-seckill.conf";

/** A piece of the script: fixed text, or the value of one service environment variable (may be filled by Terraform). */
export type ScriptPiece = string | { readonly envValue: string };

export interface BootScriptInputs {
  readonly envName: string;
  readonly appPort: number;
  readonly nodeMirror: string;
  readonly npmRegistry: string;
  /** Validated, complete service environment, in the order it is written. */
  readonly serviceEnv: ReadonlyArray<readonly [string, string]>;
  readonly bundle: AppBundle;
}

/**
 * The first-boot script cloud-init runs as root. Every step is idempotent, so running it again leaves the same state.
 * With SECKILL_BOOT_ROOT set it installs into that directory instead of / and leaves users, kernel and systemd
 * alone: that is how the boot test runs this very script on a machine without systemd.
 */
export function bootScript(inputs: BootScriptInputs): ScriptPiece[] {
  const { envName, appPort, nodeMirror, npmRegistry, serviceEnv, bundle } = inputs;
  const envLines: ScriptPiece[] = serviceEnv.flatMap(([key, value]) => [`${key}=`, { envValue: value }, "\n"]);
  return [
    `#!/bin/bash
# seckill node bootstrap, environment "${envName}". Rendered by userdata/ in the seckill-alicloud repository.
# Secrets: ECS returns this user data to anyone allowed to describe the instance, so the values below are as
# readable as that permission; on the instance the env file is root-only (0600). Moving them out is a later step.
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
mkdir -p "$APP_HOME/app" "$ROOT/etc/seckill" "$ROOT/etc/sysctl.d" "$ROOT/etc/systemd/system"

step "service user"
on_host add_service_user

step "kernel settings"
put "$ROOT${SYSCTL_FILE}" 644 <<'SECKILL_SYSCTL'
${sysctlSettings(appPort)}SECKILL_SYSCTL
on_host sysctl -q -p ${SYSCTL_FILE}

step "node.js"
NODE_VERSION=${NODE_VERSION}
NODE_MIRROR='${nodeMirror.replace(/\/+$/, "")}'
case $(uname -m) in x86_64) NODE_ARCH=x64 ;; aarch64) NODE_ARCH=arm64 ;; *) NODE_ARCH=unsupported-$(uname -m) ;; esac
NODE_DIST=node-v$NODE_VERSION-linux-$NODE_ARCH
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
echo "seckill-boot:   node $(node --version), npm $(npm --version)"

step "service code"
# Our bundled code, package.json and lockfile: JSON {file: content}, brotli-compressed, base64 (see packAppFiles).
node -e '${UNPACK_APP_FILES}' "$APP_HOME/app" <<'SECKILL_APP'
${packAppFiles(bundle)}
SECKILL_APP

step "dependencies"
lock_sum=$(sha256sum <"$APP_HOME/app/package-lock.json")
if [ "$(cat "$APP_HOME/app/node_modules/.seckill-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
  # Exact lockfile versions from the configured registry; no install scripts run as root.
  (cd "$APP_HOME/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier --registry '${npmRegistry}')
  echo "$lock_sum" >"$APP_HOME/app/node_modules/.seckill-lock.sha256"
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
    appPort < 1024
      ? "AmbientCapabilities=CAP_NET_BIND_SERVICE\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE"
      : "CapabilityBoundingSet=";
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
TimeoutStopSec=30
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
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX

[Install]
WantedBy=multi-user.target
`;
}

/**
 * The app's files as one base64 line. Brotli at its best setting packs minified JS about 10 % smaller than gzip -9,
 * and the outer gzip (index.ts) shrinks base64 text back to about 3/4, so the 16 KB hold noticeably more code
 * than plain text inside the gzip would. Node unpacks it on the instance (UNPACK_APP_FILES), right after its install.
 */
export function packAppFiles(bundle: AppBundle): string {
  const files = { "main.js": bundle.mainJs, "package.json": bundle.packageJson, "package-lock.json": bundle.packageLockJson };
  const json = Buffer.from(JSON.stringify(files));
  return brotliCompressSync(json, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
      [zlib.BROTLI_PARAM_LGWIN]: zlib.BROTLI_MAX_WINDOW_BITS,
      [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
      [zlib.BROTLI_PARAM_SIZE_HINT]: json.length,
    },
  }).toString("base64");
}

/** Node program (argv[1] = target directory) that writes each packed file atomically; no single quotes (bash). */
const UNPACK_APP_FILES = [
  `const fs = require("fs"), path = require("path"), zlib = require("zlib");`,
  `const packed = Buffer.from(fs.readFileSync(0, "utf8"), "base64");`,
  `const files = JSON.parse(zlib.brotliDecompressSync(packed).toString("utf8"));`,
  `for (const [name, content] of Object.entries(files)) {`,
  `  const target = path.join(process.argv[1], name), temporary = target + ".tmp";`,
  `  fs.writeFileSync(temporary, content, { mode: 0o644 });`,
  `  fs.renameSync(temporary, target);`,
  `}`,
].join(" ");
