#!/usr/bin/env bash
# lsm-migrate.sh: live-migrate a VM and its local disks to another host.
#
# Chains the four phase tools source-to-destination over one ssh connection,
# like xl migrate's ssh pipeline, and coordinates the commit: the
# destination runs the guest only on this host's "go", which is said once,
# on the phase 3 channel, after the destination reported the VM ready.
# Exit 0 only when the VM runs on the destination; 1 when it failed and the
# VM runs on the source, untouched; 2 on bad usage; 3 when only a later
# `lsm-migrate.sh --recover DOMAIN HOST` can tell (the message says so).
set -euo pipefail

prog=lsm-migrate
usage() {
    cat <<'EOF'
Usage: lsm-migrate.sh [options] DOMAIN HOST
       lsm-migrate.sh --recover [options] DOMAIN HOST

Live-migrate the running VM DOMAIN and its local disks to HOST. With
--recover, settle a migration that was interrupted (exit 3, or the
orchestrator killed): finish it if HOST committed, else roll it back.

Options:
  -s SSHCMD             command to reach HOST (default: ssh); with -s '' HOST
                        is itself a command prefix run locally
  -v                    verbose (repeat for debug output)
  -p                    leave the guest paused on HOST (as xl migrate -p)
  -C CONFIG             Xen: HOST uses the domain configuration file CONFIG
                        instead of the running domain's (as xl migrate -C);
                        each disk lands at its path in CONFIG
  --debug               debug output (-v -v) on both hosts, all of it kept
                        with both hosts' device model logs in a directory
  --backend NAME        qemu or xen (default: detected)
  --map OLD=NEW         destination path prefix rewrite, repeatable
  --shared-disk PATH    a disk both hosts already see: not copied, repeatable
  --reuse               use existing destination images of the right size
  --bandwidth MIB       MiB/s for the whole migration (default: unlimited)
  --downtime MS         longest acceptable guest pause (default: 300)
  --max-pause MS        the source resumes the guest if the switchover takes
                        longer than this (default: 30000)
  --write-blocking      guest writes wait for the destination (for guests
                        that write faster than the link)
  --dry-run             print the plan; change nothing on either host
  --json                progress and summary as JSON lines
  --recover             settle an interrupted migration of DOMAIN to HOST
  --run-dir DIR         local run directory (default: $LSM_RUN_DIR or /run/lsm)
  --remote-run-dir DIR  the destination's (default: same as local)
  --remote-bindir DIR   where the lsm tools are on HOST (default: same as here)
  -h, --help            this help

ssh runs with ServerAliveInterval=5 and ServerAliveCountMax=3, so a silent
link is noticed within 15 s; -s 'ssh -o ServerAliveInterval=N' overrides.
On a terminal, the progress of the whole migration is one line: disks, RAM,
the time left and the expected pause (lsm-progress(8)).
Each migration leaves one line tagged lsm in the system log of both hosts
(the socket $LSM_SYSLOG_SOCKET, default /dev/log). See lsm-migrate.sh(8).
On a CPU with AES instructions ssh prefers AES-GCM (about 1.7x the speed of
its default, chacha20-poly1305) unless -s or the ssh configuration sets
Ciphers; -v prints the cipher in use.
Of xl migrate's options, -s, -v, -p, -C and --debug work here; -e and -D
do not (see lsm-migrate.sh(8), XL MIGRATE OPTIONS).
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
max_pause=30000
write_blocking=()
paused=()
config=()
runs_word=runs
debug=0
dry_run=0
recover=0
json=()
run_dir="${LSM_RUN_DIR:-/run/lsm}"
remote_run_dir=
remote_bindir=

while (($#)); do
    case "$1" in
        -s) (($# >= 2)) || die_usage "-s needs a command"; ssh_cmd="$2"; shift 2 ;;
        -v) verbose+=(-v); shift ;;
        -vv) verbose+=(-v -v); shift ;;
        -p) paused=(--paused) runs_word="is paused"; shift ;;
        -C) (($# >= 2)) || die_usage "-C needs a configuration file"; config=(--config "$2"); shift 2 ;;
        --debug) debug=1; shift ;;
        --backend) backend="${2:?}"; shift 2 ;;
        --map) maps+=(--map "${2:?}"); shift 2 ;;
        --shared-disk) shared+=(--shared-disk "${2:?}"); shift 2 ;;
        --reuse) reuse=(--reuse); shift ;;
        --bandwidth) bandwidth="${2:?}"; shift 2 ;;
        --downtime) downtime="${2:?}"; shift 2 ;;
        --max-pause) max_pause="${2:?}"; shift 2 ;;
        --write-blocking) write_blocking=(--write-blocking); shift ;;
        --dry-run) dry_run=1; shift ;;
        --recover) recover=1; shift ;;
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
# HOST reaches ssh as an argument after "--", never as an option, and goes
# into messages and the summary: no leading '-', no control characters.
[[ -n "$host" && "$host" != -* && "$host" != *[[:cntrl:]]* ]] ||
    die_usage "invalid host $(printf '%q' "$host"): a host name must not start with '-' or hold control characters"
[[ -z "$bandwidth" || "$bandwidth" =~ ^[0-9]+([.][0-9]+)?$ ]] ||
    die_usage "--bandwidth wants MiB/s, got '$bandwidth'"
[[ "$downtime" =~ ^[1-9][0-9]*$ ]] || die_usage "--downtime wants milliseconds, got '$downtime'"
[[ "$max_pause" =~ ^[1-9][0-9]*$ ]] || die_usage "--max-pause wants milliseconds, got '$max_pause'"
remote_run_dir="${remote_run_dir:-$run_dir}"
((debug)) && verbose=(-v -v)

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
rdir=(--run-dir "$run_dir")
rrdir=(--run-dir "$remote_run_dir")

# The run directories hold what the tools trust, so they must be ours
# alone, as the tools check too (lib/core/private_dir.hpp): made 0700, or
# refused with the fix when a symlink, another user's or writable by others.
private_dir() {
    local d="$1" why="" fix=""
    # Another lsm-migrate.sh (another domain) may make it first: an mkdir
    # that fails on what now exists is checked below like any other.
    mkdir -m 700 "$d" 2>/dev/null || [[ -e "$d" || -L "$d" ]] || mkdir -m 700 "$d"
    if [[ -L "$d" || ! -d "$d" ]]; then
        why="is not a directory (a symbolic link?)" fix="replace it with a directory"
    elif [[ ! -O "$d" ]]; then
        why="belongs to another user" fix="run: chown $(id -u) $d"
    elif (((8#$(stat -c %a "$d") & 8#022) != 0)); then
        why="is writable by group or others" fix="run: chmod go-w $d"
    fi
    [[ -z "$why" ]] && return
    say "run directory $d $why, so others could plant files lsm trusts; $fix, or use another --run-dir"
    exit 1
}

# One lsm-migrate.sh per domain on this host, for the whole run (the tools
# inherit the lock; the ssh master must not, it may outlive us). A dry run
# changes nothing, not even this.
if ((dry_run)); then
    exec {lock_fd}</dev/null
else
    for d in "$run_dir" "$run_dir/lsm"; do
        private_dir "$d"
    done
    lock_file="$run_dir/lsm/$domain.migrate.lock"
    if [[ -L "$lock_file" ]]; then
        say "$lock_file is a symbolic link, which lsm never makes; not following it (remove it)"
        exit 1
    fi
    exec {lock_fd}>"$lock_file"
    if ! flock -n "$lock_fd"; then
        say "another lsm-migrate.sh is working on $domain on this host; wait for it to end"
        exit 1
    fi
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lsm-migrate.XXXXXX")"
# --debug: everything said on stderr here, where the destination's tools
# speak too (through ssh), goes to a directory that outlives the run.
debug_dir=
debug_tee=
if ((debug)); then
    debug_dir="$(mktemp -d "${TMPDIR:-/tmp}/lsm-debug-$domain.XXXXXX")"
    exec {stderr_fd}>&2
    exec 2> >(tee -a "$debug_dir/migrate.log" >&"$stderr_fd")
    debug_tee=$!
fi
ctl="$tmp/ssh-control"
ssh_argv=()
read -r -a ssh_argv <<<"$ssh_cmd"
master=0
fwd_specs=()
job_pid=
# The audit trail: set once a migration (or --recover) has started.
audit=0
audit_op=migrate
audit_reason=''
t_start='' t_prepared='' t_mirrored='' t_streamed='' t_end='' downtime_ms=''

cleanup() {
    local rc=$?
    stop_receiver
    # The audit line and the logs go first, while the ssh master may still
    # be up.
    ((audit)) && audit "$rc"
    [[ -z "$debug_dir" ]] || keep_debug
    # The master may be dead already (a broken link): nothing left to stop.
    if ((master)); then
        local spec
        for spec in "${fwd_specs[@]}"; do
            "${ssh_argv[@]}" -o ControlPath="$ctl" -O cancel -L "$spec" -- "$host" 2>/dev/null || true
        done
        "${ssh_argv[@]}" -o ControlPath="$ctl" -O exit -- "$host" 2>/dev/null || true
    fi
    end_view
    rm -rf "$tmp"
    # All of it in migrate.log before we are gone.
    if [[ -n "$debug_tee" ]]; then
        exec 2>&"$stderr_fd"
        wait "$debug_tee" || true
    fi
}
trap cleanup EXIT

# Runs a tool on the destination: one quoted command line, no shell
# interpretation of our arguments there.
remote() {
    local tool="$1"
    shift
    remote_run "$(printf '%q ' "$remote_bindir/$tool" "$@")"
}

# remote_run CMDLINE: one command line, quoted already, run on HOST.
remote_run() {
    if ((${#ssh_argv[@]} == 0)); then
        bash -c "$host $1"
    else
        "${ssh_argv[@]}" -o ControlPath="$ctl" -o ControlMaster=no -o ConnectTimeout=10 \
            -- "$host" "$1"
    fi
}

local_tool() {
    local tool="$1"
    shift
    "$bindir/$tool" "$@"
}

# Runs "$@" as a job of its own process group and waits for it: bash runs a
# trap only between commands, and `wait` is one it interrupts, so a signal
# is handled at once, and stop_job can end the whole job (ssh included).
set -m
run_job() {
    "$@" &
    job_pid=$!
    local rc=0
    wait "$job_pid" || rc=$?
    job_pid=
    return "$rc"
}
stop_job() {
    [[ -n "$job_pid" ]] || return 0
    kill -TERM -- "-$job_pid" 2>/dev/null || true
    wait "$job_pid" 2>/dev/null || true
    job_pid=
}

# Phase 3's receiver, started as soon as phase 2 has the destination ready:
# an ssh session costs a round trip and the remote shell's start (0.1 s on
# the test hosts), which the RAM phase then does not pay. It waits for the
# stream holding nothing. Its stdin and stdout are fifos whose other ends
# this shell keeps until the sender's job has them; from then on only the
# sender holds them, so the receiver sees the end of the stream when the
# sender ends, and a phase 2 that fails ends it by closing them.
rx_pid='' stream_fd='' answers_fd=''
start_receiver() {
    mkfifo -m 600 "$tmp/stream" "$tmp/answers"
    remote lsm-ramstream receive "$domain" "${paused[@]}" "${listen[@]}" "${rrdir[@]}" \
        --go-timeout "$max_pause" \
        --idle-timeout "$((max_pause + 10000))" "${progress[@]}" "${verbose[@]}" \
        <"$tmp/stream" >"$tmp/answers" &
    rx_pid=$!
    # In the order the receiver's shell opens them: neither open blocks
    # for long, but a signal can still cut one short.
    exec {stream_fd}>"$tmp/stream" {answers_fd}<"$tmp/answers" ||
        settle "phase 2 (mirror) failed: the fifos to phase 3's receiver did not open"
}
close_receiver_fds() {
    [[ -z "$stream_fd" ]] || exec {stream_fd}>&-
    [[ -z "$answers_fd" ]] || exec {answers_fd}<&-
    stream_fd='' answers_fd=''
}
# After the sender: the receiver has said all it had to, and ends.
wait_receiver() {
    close_receiver_fds
    [[ -n "$rx_pid" ]] || return 0
    wait "$rx_pid" 2>/dev/null || true
    rx_pid=
}
stop_receiver() {
    close_receiver_fds
    [[ -n "$rx_pid" ]] || return 0
    kill -TERM -- "-$rx_pid" 2>/dev/null || true
    wait "$rx_pid" 2>/dev/null || true
    rx_pid=
}

# The progress view (lsm-progress(8)): on a terminal, unless --json asks
# for the events themselves, the tools report progress as JSON lines and
# one lsm-progress, fed all of this script's stderr from then on, draws
# them as one line: disks, RAM, the ETA of the whole migration and the
# pause. Every other line passes through as it came, and the tools' exit
# statuses reach us as before: only where stderr goes changes. It outlives
# a Ctrl-C (the rollback's messages go through it) and ends with its input.
# Elsewhere, in a log, each tool prints its own plain progress lines.
progress=("${json[@]}")
view_pid=
start_view() {
    local args=(view --downtime "$downtime") ram
    field "$tmp/vm.json" memory
    ram=$REPLY
    [[ ! "$ram" =~ ^[0-9]+$ ]] || args+=(--ram "$ram")
    exec {tty_fd}>&2
    exec 2> >(exec "$bindir/lsm-progress" "${args[@]}" >&"$tty_fd" 2>&"$tty_fd" \
        {tty_fd}>&- {lock_fd}>&-)
    view_pid=$!
    progress=(--json)
}
# Ends the view before anything else reaches the terminal (the summary goes
# to stdout): stderr is the terminal again, and once the last writer has
# closed the pipe, the view ends its line. A writer still at work (a tool
# finishing its rollback alone) holds us a second at most; the view then
# prints what it says after we are gone.
end_view() {
    [[ -n "$view_pid" ]] || return 0
    exec 2>&"$tty_fd" {tty_fd}>&-
    local i
    for ((i = 0; i < 50; i++)); do
        view_ended && break
        sleep 0.02
    done
    view_pid=
}
# Gone, or a zombie bash has not reaped yet.
view_ended() {
    local state
    state="$(cut -d ' ' -f 3 "/proc/$view_pid/stat" 2>/dev/null)" || return 0
    [[ "$state" == Z ]]
}

# JSON this script writes itself (RFC 8259): a value can neither leave its
# string (quotes, backslashes and control characters are escaped) nor make
# a number empty or malformed (null instead).
json_string() {
    local LC_ALL=C
    local s="$1" out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c="${s:i:1}"
        case "$c" in
            '"' | \\) out+="\\$c" ;;
            [[:cntrl:]]) out+="$(printf '\\u%04x' "'$c")" ;;
            *) out+="$c" ;;
        esac
    done
    printf '"%s"' "$out"
}
json_number() {
    if [[ "$1" =~ ^-?(0|[1-9][0-9]*)([.][0-9]+)?$ ]]; then printf '%s' "$1"; else printf null; fi
}
# summary_json KEY NUMBER...: the --json summary line (docs/protocol.md 3.7).
summary_json() {
    local out
    out="{\"lsm\":1,\"type\":\"summary\",\"domain\":$(json_string "$domain"),\"host\":$(json_string "$host"),\"ok\":true"
    out+=",\"paused\":$( ((${#paused[@]})) && echo true || echo false)"
    while (($# >= 2)); do
        out+=",\"$1\":$(json_number "$2")"
        shift 2
    done
    printf '%s}\n' "$out"
}

# The times and figures below are worked out by bash itself: a process
# start costs the nested lab's hosts a tenth of a second or more, and the
# summary and the audit lines took dozens of them.
# Each sets REPLY.
# usec T: T (seconds, as EPOCHREALTIME or our messages write them) in
# whole microseconds; 0 for anything else.
usec() {
    REPLY=0
    [[ "$1" =~ ^([0-9]+)([.,]([0-9]*))?$ ]] || return 0
    local frac="${BASH_REMATCH[3]}000000"
    REPLY=$((10#${BASH_REMATCH[1]} * 1000000 + 10#${frac:0:6}))
}
# elapsed A B: B - A, in seconds with two decimals.
elapsed() {
    local a sign='' c
    usec "$1"
    a=$REPLY
    usec "$2"
    c=$(((REPLY - a) / 5000))
    ((c < 0)) && sign=- c=$((-c))
    c=$(((c + 1) / 2))
    printf -v REPLY '%s%d.%02d' "$sign" $((c / 100)) $((c % 100))
}
# field FILE KEY: the number after "KEY": on FILE's first line that has
# one (messages, one per line), or empty.
field() {
    local line
    REPLY=''
    while IFS= read -r line || [[ -n "$line" ]]; do
        if [[ "$line" =~ \"$2\":\"?([0-9.]*) ]]; then
            REPLY="${BASH_REMATCH[1]}"
            return 0
        fi
    done <"$1"
}

# The audit trail: one line in the system log of both hosts once the
# migration has ended (never inside the pause), through the ssh master the
# migration already has. No syslog socket fails nothing: one warning.
# kv KEY VALUE: a word of the line, the value quoted when it needs it.
kv() {
    if [[ "$2" =~ ^[][A-Za-z0-9._:@/+-]+$ ]]; then
        printf ' %s=%s' "$1" "$2"
    else
        local v="${2//\\/\\\\}"
        printf ' %s="%s"' "$1" "${v//\"/\\\"}"
    fi
}
# audit_line RESULT ROLE: domain, hosts, result, phase times, downtime, user.
audit_line() {
    local now_t=$EPOCHREALTIME
    printf '%s' "$audit_op"
    kv domain "$domain"
    kv source "$HOSTNAME"
    kv destination "$host"
    kv result "$1"
    [[ -n "$t_prepared" ]] && elapsed "$t_start" "$t_prepared" && kv prepare_s "$REPLY"
    [[ -n "$t_mirrored" ]] && elapsed "$t_prepared" "$t_mirrored" && kv mirror_s "$REPLY"
    [[ -n "$t_streamed" ]] && elapsed "$t_mirrored" "$t_streamed" && kv ram_s "$REPLY"
    [[ -n "$t_end" ]] && elapsed "$t_streamed" "$t_end" && kv resume_s "$REPLY"
    [[ -n "$t_start" ]] && elapsed "$t_start" "${t_end:-$now_t}" && kv total_s "$REPLY"
    [[ -n "$downtime_ms" ]] && kv downtime_ms "$downtime_ms"
    [[ -n "$audit_reason" ]] && kv reason "$audit_reason"
    kv user "${SUDO_USER:-${USER:-$(id -un)}}"
    kv logged_by "$2"
}
# After the migration, HOST is asked only over a live master: a dead link
# must not hold up the exit (and the master's keepalives end a session on a
# link that dies now). True when there was a master and it is gone.
master_lost() {
    ((master)) && ! "${ssh_argv[@]}" -o ControlPath="$ctl" -O check -- "$host" 2>/dev/null
}

# audit EXIT-STATUS: logs the line here and on HOST.
audit() {
    local result prio
    case "$1" in
        0) result=migrated prio=notice ;;
        1) result=rolled-back prio=warning ;;
        3) result=needs-recovery prio=err ;;
        *) result="failed-$1" prio=err ;;
    esac
    # The destination's own socket: LSM_SYSLOG_SOCKET there, else /dev/log.
    # shellcheck disable=SC2016 # expanded by the destination's shell
    local log='s="${LSM_SYSLOG_SOCKET:-/dev/log}"; test -S "$s" && exec logger --socket-errors=on -t lsm -p "$1" -u "$s" -- "$2"'
    local sock="${LSM_SYSLOG_SOCKET:-/dev/log}" missing=()
    sh -c "$log" lsm-audit "user.$prio" "$(audit_line "$result" source)" 2>/dev/null ||
        missing+=("this host")
    if master_lost; then
        missing+=("$host")
    elif ! remote_run "$(printf '%q ' sh -c "$log" lsm-audit "user.$prio" \
        "$(audit_line "$result" destination)")" </dev/null 2>/dev/null; then
        missing+=("$host")
    fi
    ((${#missing[@]} == 0)) ||
        say "warning: the audit line of this migration is not in the system log of ${missing[0]}${missing[1]:+ and ${missing[1]}} (no syslog socket there? this host's is $sock)"
}

# --debug: the messages of this run and each host's logs of the VM beside
# migrate.log.
keep_debug() {
    cp "$tmp"/*.json "$tmp/ssh.log" "$debug_dir/" 2>/dev/null || true
    local_tool lsm-dmstate logs "$domain" "${be[@]}" "${rdir[@]}" >"$debug_dir/source.logs" ||
        say "warning: this host's logs of $domain are not in $debug_dir"
    if master_lost || ! remote lsm-dmstate logs "$domain" "${be[@]}" "${rrdir[@]}" </dev/null \
            >"$debug_dir/destination.logs"; then
        say "warning: $host's logs of $domain are not in $debug_dir"
    fi
    say "debug: the logs of this run are in $debug_dir"
}

# The destination committed: make sure its copy runs (unless it just said
# so), end the source copy, then let the destination forget the commit.
finish_commit() {
    if [[ "${1:-}" != confirmed ]] &&
        ! remote lsm-resume receive "$domain" "${paused[@]}" "${rrdir[@]}" "${verbose[@]}" >/dev/null; then
        say "$domain is committed on $host but does not run there: CHECK $host, then: $prog --recover $domain $host"
        exit 3
    fi
    if ! local_tool lsm-resume send "$domain" --quit "${be[@]}" "${rdir[@]}" "${verbose[@]}"; then
        say "$domain runs on $host, but the paused source copy did not quit: stop it by hand, then: $prog --recover $domain $host"
        exit 0
    fi
    remote lsm-resume receive "$domain" --release "${rrdir[@]}" "${verbose[@]}" ||
        say "$domain runs on $host; to let $host forget the migration, run: $prog --recover $domain $host"
}

# The source said "go" (or has no copy left to resume): the destination's
# answer decides. Its rollback either refuses (3: it committed, its copy is
# the VM) or succeeds, after which it can never commit.
ask_destination() {
    local rc=0
    remote lsm-resume receive "$domain" --rollback "${rrdir[@]}" "${verbose[@]}" || rc=$?
    if ((rc == 3)); then
        finish_commit
        say "$domain $runs_word on $host"
        exit 0
    elif ((rc == 0)); then
        if local_tool lsm-resume send "$domain" --rollback --not-committed "${be[@]}" "${rdir[@]}" \
            "${verbose[@]}"; then
            say "migration of $domain failed; it keeps running on the source"
            exit 1
        fi
        # No copy here, no record there: a migration that had finished,
        # its copy there running or left paused by -p.
        local there
        if there="$(remote lsm-dmstate send "$domain" --dry-run "${be[@]}" "${rrdir[@]}" \
            2>"$tmp/there.err")"; then
            if [[ "$there" == *'"running":true'* ]]; then
                say "$domain runs on $host; nothing is left to settle"
            else
                say "$domain is on $host, paused; nothing is left to settle (resume it there)"
            fi
            exit 0
        fi
        say "$host did not run $domain ($(tr '\n' ' ' <"$tmp/there.err")), and it could not be resumed here: CHECK this host"
        exit 3
    fi
    say "cannot learn from $host whether it runs $domain: when it is reachable, run: $prog --recover $domain $host"
    exit 3
}

# Ends a migration that will not complete by itself, whatever state it is
# in: a failed phase, a signal, or --recover. Idempotent; never interrupted.
settle() {
    trap '' INT TERM HUP
    stop_job
    stop_receiver
    audit_reason="$1"
    [[ -z "$1" ]] || say "$1; rolling back"
    local rc=0
    local_tool lsm-resume send "$domain" --rollback "${be[@]}" "${rdir[@]}" "${verbose[@]}" || rc=$?
    if ((rc == 0)); then
        # The source copy runs: before "go" the destination's never could.
        if ! remote lsm-resume receive "$domain" --rollback "${rrdir[@]}" "${verbose[@]}"; then
            say "$domain runs on the source; clean up $host with: $prog --recover $domain $host"
            exit 1
        fi
        if [[ -n "$1" ]]; then
            say "migration of $domain failed; it keeps running on the source"
        else
            say "settled: $domain runs on the source, $host holds nothing of it"
        fi
        exit 1
    fi
    ((rc == 3)) || say "could not resume $domain on the source; asking $host"
    ask_destination
}

# What this host can tell comes first, before ssh: the domain, its disks
# and the options (a dry run of the source's phase 1, whose description a
# --dry-run then sends). --recover needs no running domain here.
if ((!recover)); then
    local_tool lsm-dmstate send "$domain" --dry-run "${be[@]}" "${rdir[@]}" "${shared[@]}" \
        "${config[@]}" "${verbose[@]}" >"$tmp/vm.json" || exit 1
fi

# The disks and the RAM go through one ssh connection, whose cipher bounds
# them: AES-GCM moves about 1.7x what chacha20-poly1305 (OpenSSH's first
# choice) does on CPUs with AES instructions. Preferred only when neither
# -s nor the user's ssh configuration chose the ciphers.
cipher_options() {
    local chosen default
    grep -qw aes /proc/cpuinfo 2>/dev/null || return 0
    chosen="$("${ssh_argv[@]}" -G -- "$host" 2>/dev/null | grep '^ciphers ')" || return 0
    default="$("${ssh_argv[0]}" -F /dev/null -G -- "$host" 2>/dev/null | grep '^ciphers ')" || return 0
    [[ "$chosen" == "$default" && "$chosen" == *aes128-gcm@openssh.com* ]] || return 0
    echo -o Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com
}

if ((${#ssh_argv[@]})); then
    master_opts=()
    read -r -a master_opts < <(cipher_options) || true
    # With -v, ssh's own account of the connection, to tell the cipher.
    ((${#verbose[@]})) && master_opts+=(-v -E "$tmp/ssh.log")
    if ! "${ssh_argv[@]}" -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=no \
        -o ServerAliveInterval=5 -o ServerAliveCountMax=3 "${master_opts[@]}" \
        -f -N -- "$host" 2>"$tmp/ssh.err" </dev/null {lock_fd}>&-; then
        say "cannot reach $host with '$ssh_cmd': $(cat "$tmp/ssh.err" "$tmp/ssh.log" 2>/dev/null |
            grep -v '^debug' | tr '\n' ' ')"
        exit 1
    fi
    master=1
    if ((${#verbose[@]})); then
        say "ssh to $host: $(sed -n 's/.*kex: client->server cipher: \([^ ]*\).*/cipher \1/p' \
            "$tmp/ssh.log" | head -n 1)"
    fi
fi

if ((recover)); then
    audit=1 audit_op=recover
    settle ""
fi

t_start=$EPOCHREALTIME

# Phase 1. The source side runs first on its own so that a bad domain gives
# one error line, before anything touches the destination.
if ((dry_run)); then
    remote lsm-dmstate receive "${rrdir[@]}" "${maps[@]}" "${reuse[@]}" --dry-run \
        "${verbose[@]}" <"$tmp/vm.json"
    exit
fi
if ((${#json[@]} == 0)) && [[ -t 2 && -x "$bindir/lsm-progress" ]]; then
    start_view
fi
local_tool lsm-dmstate send "$domain" "${be[@]}" "${rdir[@]}" "${shared[@]}" "${config[@]}" \
    "${verbose[@]}" >"$tmp/vm.json" || exit 1
audit=1

trap 'settle "interrupted migration"' INT TERM HUP
run_job remote lsm-dmstate receive "${rrdir[@]}" "${maps[@]}" "${reuse[@]}" "${verbose[@]}" \
    <"$tmp/vm.json" >"$tmp/prepared.json" || settle "phase 1 (prepare destination) failed"
t_prepared=$EPOCHREALTIME

# Phase 2. The destination's NBD sockets (one for a QEMU destination, one
# per disk for Xen) reach the source through the ssh connection; nothing
# listens on TCP.
bw=()
[[ -n "$bandwidth" ]] && bw=(--bandwidth "$bandwidth")
run_job remote lsm-mirror receive "$domain" "${rrdir[@]}" "${verbose[@]}" \
    </dev/null >"$tmp/exports.json" || settle "phase 2 (mirror) failed"
# A destination whose device model reads the RAM stream itself names a
# socket for it: the stream then goes there, beside the session's pipe.
ram_remote="$(sed -n 's/.*"ram_socket":"\([^"]*\)".*/\1/p' "$tmp/exports.json")"
listen=() stream_socket=()
if [[ -n "$ram_remote" ]]; then
    listen=(--listen)
    stream_socket=(--stream-socket "$ram_remote")
fi
start_receiver
sockets=()
forward() {
    local spec="$1:$2"
    fwd_specs+=("$spec")
    "${ssh_argv[@]}" -o ControlPath="$ctl" -O forward -L "$spec" -- "$host" 2>"$tmp/fwd.err" ||
        settle "phase 2 (mirror) failed: ssh forwarding of $2: $(tr '\n' ' ' <"$tmp/fwd.err")"
}
if ((master)); then
    mkdir "$tmp/nbd"
    sockets=(--socket-dir "$tmp/nbd")
    while read -r nbd_remote; do
        # Every disk shared: nothing is exported, nothing to forward.
        [[ -n "$nbd_remote" ]] || continue
        forward "$tmp/nbd/${nbd_remote##*/}" "$nbd_remote"
    done < <(grep -o '"socket":"[^"]*"' "$tmp/exports.json" | sed 's/^"socket":"//; s/"$//' | sort -u)
    if [[ -n "$ram_remote" ]]; then
        forward "$tmp/ram.sock" "$ram_remote"
        stream_socket=(--stream-socket "$tmp/ram.sock")
    fi
fi
run_job local_tool lsm-mirror send "$domain" "${be[@]}" "${rdir[@]}" "${sockets[@]}" "${bw[@]}" \
    "${write_blocking[@]}" "${progress[@]}" "${verbose[@]}" <"$tmp/exports.json" ||
    settle "phase 2 (mirror) failed"
t_mirrored=$EPOCHREALTIME

# Phase 3 and the commit: the stream to the receiver started in phase 2,
# and its answers back; the source says "go" in between. No ssh session or
# process starts inside the pause, nor anywhere in phase 3 but the sender,
# run as run_job runs a job, with this shell's ends of the fifos closed
# once the sender has them.
local_tool lsm-ramstream send "$domain" --commit --report "$tmp/ram.json" "${be[@]}" \
    "${rdir[@]}" --downtime "$downtime" --max-pause "$max_pause" "${bw[@]}" "${stream_socket[@]}" \
    "${progress[@]}" "${verbose[@]}" <&"$answers_fd" >&"$stream_fd" &
job_pid=$!
close_receiver_fds
rc=0
wait "$job_pid" || rc=$?
job_pid=
wait_receiver
if ((rc == 3)); then
    trap '' INT TERM HUP
    audit_reason="the switchover was interrupted after go"
    say "the switchover of $domain was interrupted after go; asking $host"
    ask_destination
elif ((rc != 0)); then
    settle "phase 3 (RAM, device state and the switchover) failed"
fi
t_streamed=$EPOCHREALTIME

# Phase 4: the destination runs the guest; end the source copy, then let
# the destination forget the commit. Not interrupted: it only finishes.
trap '' INT TERM HUP
finish_commit confirmed
t_end=$EPOCHREALTIME

field "$tmp/ram.json" ram_bytes
ram_bytes=$REPLY
field "$tmp/ram.json" disk_bytes
disk_bytes=$REPLY
# A guest that was paused before migrating, or stays paused (-p), has no
# downtime: -1 says so.
downtime_ms=-1
field "$tmp/ram.json" paused_at
usec "$REPLY"
paused_us=$REPLY
field "$tmp/ram.json" resumed_at
usec "$REPLY"
((paused_us > 0 && REPLY > 0)) && downtime_ms=$(((REPLY - paused_us) / 1000))
elapsed "$t_start" "$t_prepared"
prepare_s=$REPLY
elapsed "$t_prepared" "$t_mirrored"
mirror_s=$REPLY
elapsed "$t_mirrored" "$t_streamed"
ram_s=$REPLY
elapsed "$t_streamed" "$t_end"
resume_s=$REPLY
elapsed "$t_start" "$t_end"
total=$REPLY
end_view
if ((${#json[@]})); then
    summary_json prepare_s "$prepare_s" mirror_s "$mirror_s" ram_s "$ram_s" resume_s "$resume_s" \
        total_s "$total" disk_bytes "$disk_bytes" ram_bytes "$ram_bytes" downtime_ms "$downtime_ms"
else
    cat <<EOF
$domain migrated to $host$( ((${#paused[@]})) && echo ", paused there (xl unpause, or QMP cont, runs it)")
  phase 1 prepare: $prepare_s s
  phase 2 mirror:  $mirror_s s
  phase 3 ram:     $ram_s s
  phase 4 resume:  $resume_s s
  total:           $total s
  disk bytes:      $disk_bytes (zero ranges travel as NBD write-zeroes, not data)
  ram bytes:       $ram_bytes
  downtime:        $downtime_ms ms (source pause to destination resume, host clocks)
EOF
fi
