#!/usr/bin/env bash
# boot-hosts.sh [--run SCRIPT]: boots the nested Xen lab (hosts a and b, see
# lab.bash) from the image in LAB_IMAGES (default build/xenlab; `make xenlab`).
#   without --run   waits for LAB-READY on both, prints how to reach them,
#                   and keeps them up until Ctrl-C / SIGTERM (or LAB_LIFETIME)
#   --run SCRIPT    both dom0s run SCRIPT as /lab/run-in-dom0.sh NAME and
#                   power off; exits 0 when both scripts exited 0
# Either way no QEMU outlives this script.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../helpers/common.bash
. "$here/../helpers/common.bash"
# shellcheck source=lab.bash
. "$here/lab.bash"

# common.bash's prerequisite checks call bats' skip.
skip() { echo "boot-hosts: $*" >&2; exit 77; }

hook=""
case "${1:-}" in
    --run) [[ $# -eq 2 && -f "$2" ]] || { echo "usage: boot-hosts.sh [--run SCRIPT]" >&2; exit 2; }
           hook="$(realpath "$2")" ;;
    "") ;;
    *) echo "usage: boot-hosts.sh [--run SCRIPT]" >&2; exit 2 ;;
esac

trap cleanup_run EXIT
trap 'exit 130' INT TERM

lab_boot "$hook"
echo "boot-hosts: both hosts ready after ${LAB_BOOT_SECONDS} s" >&2

if [[ -n "$hook" ]]; then
    lab_wait_exit 900
    exit
fi

cat >&2 <<EOF
boot-hosts: lab up (consoles: $LAB_A_CONSOLE $LAB_B_CONSOLE)
  ssh -F $LAB_SSH_CONFIG lab-a      (lab-b likewise; a=$LAB_A_ADDR b=$LAB_B_ADDR on the lab link)
  share (/lab in both dom0s): $LAB_SHARE
Ctrl-C tears the lab down.
EOF
while _lab_alive a && _lab_alive b; do
    sleep 5
done
echo "boot-hosts: a host went down" >&2
lab_dump
exit 1
