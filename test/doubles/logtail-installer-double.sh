#!/bin/bash
# Test double of Logtail's Linux installer (logtail.sh, run as `logtail.sh install <region>`): what boot.sh downloads from
# LOGTAIL_INSTALLER_URL in the boot tests. It checks what the real installer needs from the boot (the command, a region
# id, the machine group's identity written before it runs), records the call, and installs a stand-in binary where the
# real one goes, so that a second boot finds Logtail installed. It runs only under SECKILL_BOOT_ROOT.
set -euo pipefail
root=${SECKILL_BOOT_ROOT:?the Logtail installer double runs only in a boot test, under SECKILL_BOOT_ROOT}
if [ "$#" -ne 2 ] || [ "$1" != install ] || ! [[ $2 =~ ^[a-z]{2,}(-[a-z0-9]+)+$ ]]; then
  echo "logtail installer double: expected 'install <region>', got: $*" >&2
  exit 2
fi
identity=$(cat "$root/etc/ilogtail/user_defined_id" 2>/dev/null || true)
if [ -z "$identity" ]; then
  echo "logtail installer double: /etc/ilogtail/user_defined_id is missing: the machine group would not find this instance" >&2
  exit 3
fi
mkdir -p "$root/usr/local/ilogtail" "$root/var/log"
printf '#!/bin/sh\necho "logtail installer double: stand-in for ilogtail"\n' >"$root/usr/local/ilogtail/ilogtail"
chmod 755 "$root/usr/local/ilogtail/ilogtail"
echo "install region=$2 identity=$identity" >>"$root/var/log/logtail-installer-double.log"
