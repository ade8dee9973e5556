#!/usr/bin/env bash
# apt-install.sh PACKAGE...: install Debian packages (as root), quietly unless something fails.
# When another apt or dpkg process holds the package lock (unattended upgrades, an install in
# another terminal), wait for it up to PAPERLENS_APT_LOCK_WAIT seconds (default 120), then say
# so and what to do instead of apt's bare "Could not get lock".
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }
WAIT=${PAPERLENS_APT_LOCK_WAIT:-120}
PACKAGES="$*"
export DEBIAN_FRONTEND=noninteractive
out=$(mktemp)
trap 'rm -f "$out"' EXIT

locked() {
  grep -q -e "Could not get lock" -e "Unable to acquire the dpkg frontend lock" \
          -e "Unable to lock" "$out"
}

# apt-get "$@", retried while the lock is held, at most $WAIT seconds in all
apt_get() {
  local start=$SECONDS told=0
  while true; do
    if apt-get "$@" >"$out" 2>&1; then
      return 0
    fi
    if ! locked || [ $((SECONDS - start)) -ge "$WAIT" ]; then
      break
    fi
    if [ "$told" = 0 ]; then
      echo "bootstrap: another apt or dpkg process holds the package lock; waiting up to ${WAIT} s for it..." >&2
      told=1
    fi
    sleep 2
  done
  if locked; then
    echo "bootstrap: cannot install $PACKAGES: another apt or dpkg process still holds the package lock" \
         "(after ${WAIT} s):" >&2
    grep "^E:" "$out" | sed 's/^/  /' >&2 || true
    echo "  Wait until it has finished (an automatic update can take a few minutes) and run this" \
         "again; 'sudo fuser -v /var/lib/dpkg/lock-frontend /var/lib/apt/lists/lock' shows which" \
         "process holds it. PAPERLENS_APT_LOCK_WAIT=600 waits longer." >&2
  else
    echo "bootstrap: 'apt-get $*' failed:" >&2
    tail -n 20 "$out" | sed 's/^/  /' >&2
  fi
  return 1
}

apt_get update -qq
apt_get install -y -qq --no-install-recommends "$@"
