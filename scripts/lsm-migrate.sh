#!/usr/bin/env bash
# lsm-migrate.sh: live-migrate a VM and its local disks to another host.
#
# Chains the four phase tools source-to-destination over one ssh connection,
# like xl migrate's ssh pipeline. Exit 0 only when the VM runs on the
# destination; 1 when it failed and the VM runs on the source, untouched;
# 2 on bad usage; 3 when the state is undefined: check both hosts.
set -euo pipefail

prog=lsm-migrate
usage() {
    cat <<'EOF'
Usage: lsm-migrate.sh [options] DOMAIN HOST

Live-migrate the running VM DOMAIN and its local disks to HOST.

Options:
  -s SSHCMD             command to reach HOST (default: ssh); with -s '' HOST
                        is itself a command prefix run locally
  -v                    verbose (repeat for debug output)
  --backend NAME        qemu or xen (default: detected)
  --map OLD=NEW         destination path prefix rewrite, repeatable
  --shared-disk PATH    a disk both hosts already see: not copied, repeatable
  --reuse               use existing destination images of the right size
  --bandwidth MIB       MiB/s for the whole migration (default: unlimited)
  --downtime MS         longest acceptable guest pause (default: 300)
  --write-blocking      guest writes wait for the destination (for guests
                        that write faster than the link)
  --dry-run             print the plan; change nothing on either host
  --json                progress and summary as JSON lines
  --run-dir DIR         local run directory (default: $LSM_RUN_DIR or /run/lsm)
  --remote-run-dir DIR  the destination's (default: same as local)
  --remote-bindir DIR   where the lsm tools are on HOST (default: same as here)
  -h, --help            this help
EOF
}

die_usage() {
    echo "$prog: $1 (try --help)" >&2
    exit 2
}

say() { echo "$prog: $*" >&2; }

ssh_cmd=ssh
verbose=()
backend=
maps=()
shared=()
reuse=()
bandwidth=
downtime=300
write_blocking=()
dry_run=0
json=()
run_dir="${LSM_RUN_DIR:-/run/lsm}"
remote_run_dir=
remote_bindir=

while (($#)); do
    case "$1" in
        -s) (($# >= 2)) || die_usage "-s needs a command"; ssh_cmd="$2"; shift 2 ;;
        -v) verbose+=(-v); shift ;;
        -vv) verbose+=(-v -v); shift ;;
        --backend) backend="${2:?}"; shift 2 ;;
        --map) maps+=(--map "${2:?}"); shift 2 ;;
        --shared-disk) shared+=(--shared-disk "${2:?}"); shift 2 ;;
        --reuse) reuse=(--reuse); shift ;;
        --bandwidth) bandwidth="${2:?}"; shift 2 ;;
        --downtime) downtime="${2:?}"; shift 2 ;;
        --write-blocking) write_blocking=(--write-blocking); shift ;;
        --dry-run) dry_run=1; shift ;;
        --json) json=(--json); shift ;;
        --run-dir) run_dir="${2:?}"; shift 2 ;;
        --remote-run-dir) remote_run_dir="${2:?}"; shift 2 ;;
        --remote-bindir) remote_bindir="${2:?}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; break ;;
        -*) die_usage "unknown option $1" ;;
        *) break ;;
    esac
done
(($# == 2)) || die_usage "expected DOMAIN and HOST"
domain="$1"
host="$2"
[[ "$domain" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$ ]] ||
    die_usage "invalid domain name '$domain'"
[[ -z "$bandwidth" || "$bandwidth" =~ ^[0-9]+([.][0-9]+)?$ ]] ||
    die_usage "--bandwidth wants MiB/s, got '$bandwidth'"
[[ "$downtime" =~ ^[1-9][0-9]*$ ]] || die_usage "--downtime wants milliseconds, got '$downtime'"
remote_run_dir="${remote_run_dir:-$run_dir}"

# The tools: beside this script once installed, in build/bin in a checkout.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -x "$here/lsm-dmstate" ]]; then
    bindir="$here"
elif [[ -x "$here/../build/bin/lsm-dmstate" ]]; then
    bindir="$(cd "$here/../build/bin" && pwd)"
else
    say "cannot find the lsm tools beside $here (run make, or make install)"
    exit 1
fi
remote_bindir="${remote_bindir:-$bindir}"

if [[ -z "$backend" ]]; then
    if grep -qs control_d /proc/xen/capabilities; then backend=xen; else backend=qemu; fi
fi
case "$backend" in
    qemu|xen) ;;
    *) die_usage "unknown backend '$backend' (qemu or xen)" ;;
esac
be=(--backend "$backend")

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lsm-migrate.XXXXXX")"
ctl="$tmp/ssh-control"
ssh_argv=()
read -r -a ssh_argv <<<"$ssh_cmd"
master=0
fwd_specs=()

cleanup() {
    # The master may be dead already (a broken link): nothing left to stop.
    if ((master)); then
        local spec
        for spec in "${fwd_specs[@]}"; do
            "${ssh_argv[@]}" -o ControlPath="$ctl" -O cancel -L "$spec" "$host" 2>/dev/null || true
        done
        "${ssh_argv[@]}" -o ControlPath="$ctl" -O exit "$host" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# Runs a tool on the destination: one quoted command line, no shell
# interpretation of our arguments there.
remote() {
    local tool="$1"
    shift
    local cmd
    cmd="$(printf '%q ' "$remote_bindir/$tool" "$@")"
    if ((${#ssh_argv[@]} == 0)); then
        bash -c "$host $cmd"
    else
        "${ssh_argv[@]}" -o ControlPath="$ctl" -o ControlMaster=no "$host" "$cmd"
    fi
}

local_tool() {
    local tool="$1"
    shift
    "$bindir/$tool" "$@"
}

now() { printf '%s\n' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
field() { sed -n "s/.*\"$2\":\"\{0,1\}\([0-9.]*\).*/\1/p" "$1"; }

if ((${#ssh_argv[@]})); then
    if ! "${ssh_argv[@]}" -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=no \
        -f -N "$host" 2>"$tmp/ssh.err" </dev/null; then
        say "cannot reach $host with '$ssh_cmd': $(tr '\n' ' ' <"$tmp/ssh.err")"
        exit 1
    fi
    master=1
fi

rdir=(--run-dir "$run_dir")
rrdir=(--run-dir "$remote_run_dir")
t_start="$(now)"

# Phase 1. The source side runs first on its own so that a bad domain gives
# one error line, before anything touches the destination.
local_tool lsm-dmstate send "$domain" "${be[@]}" "${rdir[@]}" "${shared[@]}" "${verbose[@]}" \
    >"$tmp/vm.json" || exit 1
if ((dry_run)); then
    remote lsm-dmstate receive "${rrdir[@]}" "${maps[@]}" "${reuse[@]}" --dry-run \
        "${verbose[@]}" <"$tmp/vm.json"
    exit
fi

committing=0
fail() {
    local phase="$1"
    trap - INT HUP
    say "$phase failed; rolling back"
    if ((committing)); then
        # The resume may have reached the destination: only its own answer
        # tells whether the guest runs there now.
        local rc=0
        remote lsm-resume receive "$domain" --rollback "${rrdir[@]}" "${verbose[@]}" || rc=$?
        if ((rc == 3)); then
            say "the guest already runs on $host; quitting the source copy"
            local_tool lsm-resume send "$domain" --quit "${be[@]}" "${rdir[@]}" "${verbose[@]}" || true
            exit 0
        elif ((rc != 0)); then
            say "cannot tell whether $domain runs on $host: CHECK BOTH HOSTS before resuming anything"
            exit 3
        fi
    fi
    # Before the commit the destination guest never ran, so resuming the
    # source is always safe, even with the destination unreachable.
    if ! local_tool lsm-resume send "$domain" --rollback "${be[@]}" "${rdir[@]}" "${verbose[@]}"; then
        say "could not resume $domain on the source: CHECK IT (lsm-resume send $domain --rollback)"
        exit 3
    fi
    if ! ((committing)) &&
        ! remote lsm-resume receive "$domain" --rollback "${rrdir[@]}" "${verbose[@]}"; then
        say "$domain runs on the source; clean up $host with: lsm-resume receive $domain --rollback"
        exit 1
    fi
    say "migration of $domain failed; it keeps running on the source"
    exit 1
}

# Ctrl-C reaches the tools too (one process group); then roll back here.
trap 'fail "interrupted migration"' INT HUP
remote lsm-dmstate receive "${rrdir[@]}" "${maps[@]}" "${reuse[@]}" "${verbose[@]}" \
    <"$tmp/vm.json" >"$tmp/prepared.json" || fail "phase 1 (prepare destination)"
t_prepared="$(now)"

# Phase 2. The destination's NBD sockets (one for a QEMU destination, one
# per disk for Xen) reach the source through the ssh connection; nothing
# listens on TCP.
bw=()
[[ -n "$bandwidth" ]] && bw=(--bandwidth "$bandwidth")
remote lsm-mirror receive "$domain" "${rrdir[@]}" "${verbose[@]}" >"$tmp/exports.json" ||
    fail "phase 2 (mirror)"
sockets=()
if ((master)); then
    mkdir "$tmp/nbd"
    sockets=(--socket-dir "$tmp/nbd")
    while read -r nbd_remote; do
        # Every disk shared: nothing is exported, nothing to forward.
        [[ -n "$nbd_remote" ]] || continue
        spec="$tmp/nbd/${nbd_remote##*/}:$nbd_remote"
        fwd_specs+=("$spec")
        "${ssh_argv[@]}" -o ControlPath="$ctl" -O forward -L "$spec" "$host" 2>"$tmp/fwd.err" ||
            { say "ssh forwarding of $nbd_remote failed: $(tr '\n' ' ' <"$tmp/fwd.err")"; fail "phase 2 (mirror)"; }
    done < <(grep -o '"socket":"[^"]*"' "$tmp/exports.json" | sed 's/^"socket":"//; s/"$//' | sort -u)
fi
local_tool lsm-mirror send "$domain" "${be[@]}" "${rdir[@]}" "${sockets[@]}" "${bw[@]}" \
    "${write_blocking[@]}" "${json[@]}" "${verbose[@]}" <"$tmp/exports.json" ||
    fail "phase 2 (mirror)"
t_mirrored="$(now)"

# Phase 3: one pipe, source QEMU to destination QEMU.
set +e
local_tool lsm-ramstream send "$domain" "${be[@]}" "${rdir[@]}" --downtime "$downtime" "${bw[@]}" \
    "${json[@]}" "${verbose[@]}" |
    remote lsm-ramstream receive "$domain" "${rrdir[@]}" "${json[@]}" "${verbose[@]}" \
        >"$tmp/ram.json"
rc=("${PIPESTATUS[@]}")
set -e
((rc[0] == 0 && rc[1] == 0)) || fail "phase 3 (RAM and device state)"
t_streamed="$(now)"

# Phase 4: the commit point is the destination's resume.
committing=1
remote lsm-resume receive "$domain" "${rrdir[@]}" "${verbose[@]}" >"$tmp/resume.json" ||
    fail "phase 4 (resume on $host)"
if ! local_tool lsm-resume send "$domain" --quit "${be[@]}" "${rdir[@]}" "${verbose[@]}"; then
    say "$domain runs on $host, but the paused source copy did not quit: stop it by hand"
fi
t_end="$(now)"

ram_bytes="$(field "$tmp/ram.json" ram_bytes)"
disk_bytes="$(field "$tmp/ram.json" disk_bytes)"
paused_at="$(field "$tmp/ram.json" paused_at)"
resumed_at="$(field "$tmp/resume.json" resumed_at)"
# A guest that was paused before migrating has no downtime: -1 says so.
downtime_ms="$(awk -v a="$paused_at" -v b="$resumed_at" \
    'BEGIN { if (a > 0 && b > 0) printf "%d", (b - a) * 1000; else print -1 }')"
total="$(elapsed "$t_start" "$t_end")"
if ((${#json[@]})); then
    printf '{"lsm":1,"type":"summary","domain":"%s","host":"%s","ok":true,"prepare_s":%s,"mirror_s":%s,"ram_s":%s,"resume_s":%s,"total_s":%s,"disk_bytes":%s,"ram_bytes":%s,"downtime_ms":%s}\n' \
        "$domain" "$host" "$(elapsed "$t_start" "$t_prepared")" "$(elapsed "$t_prepared" "$t_mirrored")" \
        "$(elapsed "$t_mirrored" "$t_streamed")" "$(elapsed "$t_streamed" "$t_end")" "$total" \
        "$disk_bytes" "$ram_bytes" "$downtime_ms"
else
    cat <<EOF
$domain migrated to $host
  phase 1 prepare: $(elapsed "$t_start" "$t_prepared") s
  phase 2 mirror:  $(elapsed "$t_prepared" "$t_mirrored") s
  phase 3 ram:     $(elapsed "$t_mirrored" "$t_streamed") s
  phase 4 resume:  $(elapsed "$t_streamed" "$t_end") s
  total:           $total s
  disk bytes:      $disk_bytes (zero ranges travel as NBD write-zeroes, not data)
  ram bytes:       $ram_bytes
  downtime:        $downtime_ms ms (source pause to destination resume, host clocks)
EOF
fi
