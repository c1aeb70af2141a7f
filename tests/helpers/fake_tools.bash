# lsm-migrate.sh against stand-ins, to test what the orchestrator itself
# does (its ssh command lines, its summary, its audit line) in a second: a
# copy of the script beside fake phase tools, and a fake ssh that logs its
# argv and runs the remote command here. Load after helpers/common.

# fake_tools_install DIR: the script and the fake tools in DIR. The fake
# lsm-ramstream send writes $FAKE_REPORT as the destination's answers. A
# tool exits with FAKE_RC_TOOL_SUBCOMMAND when set (FAKE_RC_lsm_mirror_send=1).
fake_tools_install() {
    local dir="$1" tool
    mkdir -p "$dir"
    cp "$LSM_ROOT/scripts/lsm-migrate.sh" "$dir/"
    for tool in lsm-dmstate lsm-mirror lsm-ramstream lsm-resume; do
        cat >"$dir/$tool" <<'TOOL'
#!/bin/bash
set -euo pipefail
tool="${0##*/} $1"
rc_var="FAKE_RC_${tool//[- ]/_}"
[[ -z "${!rc_var:-}" ]] || exit "${!rc_var}"
case "$tool" in
    "lsm-dmstate send") echo '{"lsm":1,"type":"vm","name":"vm","backend":"qemu","config":{},"disks":[]}' ;;
    "lsm-dmstate receive") cat >/dev/null; echo '{"lsm":1,"type":"prepared","name":"vm","qmp":"/q","created":[]}' ;;
    "lsm-mirror receive")
        echo '{"lsm":1,"type":"exports","socket":"/r/vm.nbd","exports":[{"key":"d","export":"lsm-0","socket":"/r/vm.nbd"}]}' ;;
    "lsm-ramstream send")
        while (($#)) && [[ "$1" != --report ]]; do shift; done
        printf '%s\n' "$FAKE_REPORT" >"$2" ;;
    "lsm-ramstream receive") cat >/dev/null ;;
    *) ;;
esac
TOOL
        chmod +x "$dir/$tool"
    done
    cat >"$dir/fake-ssh" <<'SSH'
#!/bin/bash
# Logs its argv as one line (printf %q), runs the command
# after "-- HOST" here, and does nothing for -O and -N (master) calls.
set -euo pipefail
{ printf '%q ' "$@"; echo; } >>"$FAKE_SSH_LOG"
while (($#)) && [[ "$1" != -- ]]; do
    [[ "$1" == -O || "$1" == -N ]] && exit 0
    shift
done
shift 2
[[ $# -eq 0 ]] || exec bash -c "$1"
SSH
    chmod +x "$dir/fake-ssh"
}
