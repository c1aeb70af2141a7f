# Two "hosts" on one machine for migration tests: a source and a destination,
# each with its own network namespace, joined by a veth pair, and an sshd on
# the destination. Needs root. Load it after helpers/common:
#   load helpers/common
#   load helpers/hosts
#
# The point of the fixture is that one absolute path can hold a different file
# on each host, as with real local storage. The destination lives in its own
# mount namespace in which $LSM_T/dst is bind-mounted over $LSM_T/src, so
# $LSM_SRC_IMAGES/disk0.raw read on the destination is really
# $LSM_DST_IMAGES/disk0.raw. The source runs in the root mount namespace.
#
# Per test:                                Per file:
#   setup()    { load...; hosts_setup; }    setup_file()    { load...; hosts_setup; }
#   teardown() { cleanup_run; }             setup()         { load...; }
#                                           teardown_file() { cleanup_run; }
# setup_file and teardown_file run in the same bats process (tests run in child
# processes), so the cleanup stack filled by setup_file is still there for
# teardown_file; tests only see the exported variables, hence the setup() load
# for the functions.
#
# Exported by hosts_setup:
#   LSM_T           scratch dir (/tmp/lsm.XXXXXX, mode 700), removed at cleanup
#   LSM_SRC_NS      source network namespace name (for `ip -n`, `ip netns exec`)
#   LSM_DST_NS      destination network namespace name
#   LSM_SRC_ADDR    source address (10.231.0.1), only inside LSM_SRC_NS
#   LSM_DST_ADDR    destination address (10.231.0.2), sshd listens there, port 22
#   LSM_SRC_DIR     $LSM_T/src: host data dir; the same path on both hosts
#   LSM_SRC_IMAGES  $LSM_T/src/images   LSM_SRC_RUN  $LSM_T/src/run
#   LSM_DST_DIR     $LSM_T/dst: the destination's LSM_SRC_DIR as seen from
#                   outside (test inspection only; the tools never use it)
#   LSM_DST_IMAGES  $LSM_T/dst/images   LSM_DST_RUN  $LSM_T/dst/run
#   LSM_SSH_CONFIG  ssh client config (keys, known_hosts, keepalives, ControlPath)
#   LSM_SSH         "ssh -F $LSM_SSH_CONFIG": word-split it, e.g. -s "$LSM_SSH"
#   LSM_POLICY      $LSM_T/policy.conf, the destination's host policy (its
#                   sshd sets it for every session): images in
#                   LSM_SRC_IMAGES and $LSM_T/shared (bench), the test
#                   guest's kernel from the build dir
#   LSM_DST_SYSLOG  $LSM_T/dst-syslog.sock: the destination's syslog socket
#                   (its sshd sets LSM_SYSLOG_SOCKET to it for every session),
#                   absent unless a test listens there
#   LSM_DST_PID     holder process of the destination's namespaces (nsenter -t)
#   LSM_SSHD_PID    the destination's listening sshd
#   LSM_HOSTS_NSIDS namespace ids (net:[..] mnt:[..]) used by hosts_leftovers
#
# Functions: hosts_setup, on_src, on_dst, ssh_dst, hosts_kill_ssh_sessions,
# hosts_link_down, hosts_link_up, hosts_link_rate, hosts_link_full_rate,
# hosts_link_tx_bytes, hosts_leftovers.

LSM_SSHD=/usr/sbin/sshd # absolute: sshd re-executes itself per connection

hosts_setup() {
    require_root
    require_cmd ip nsenter unshare hostname pgrep ssh ssh-keygen "$LSM_SSHD"
    local t
    make_scratch t || return
    local id="${t##*.}"
    export LSM_T="$t"
    export LSM_SRC_NS="lsm-src-$id" LSM_DST_NS="lsm-dst-$id"
    export LSM_SRC_ADDR=10.231.0.1 LSM_DST_ADDR=10.231.0.2
    export LSM_SRC_DIR="$t/src" LSM_SRC_IMAGES="$t/src/images" LSM_SRC_RUN="$t/src/run"
    export LSM_DST_DIR="$t/dst" LSM_DST_IMAGES="$t/dst/images" LSM_DST_RUN="$t/dst/run"
    export LSM_SSH_CONFIG="$t/ssh/config"
    export LSM_SSH="ssh -F $LSM_SSH_CONFIG"
    export LSM_DST_SYSLOG="$t/dst-syslog.sock"
    mkdir -p "$t"/{src,dst}/{images,run} "$t/ssh" || return
    test_policy "$t/policy.conf" "$LSM_SRC_IMAGES" "$t/shared" || return

    _hosts_network || return
    _hosts_dst_namespaces || return
    _hosts_ssh_keys || return
    _hosts_sshd || return
}

# on_src CMD...: run CMD on the source host (its network namespace).
on_src() {
    ip netns exec "$LSM_SRC_NS" "$@"
}

# on_dst CMD...: run CMD on the destination host, for test inspection only
# (the tools reach it through ssh). The working directory becomes /.
on_dst() {
    nsenter --target "$LSM_DST_PID" --mount --net --uts -- "$@"
}

# ssh_dst [SSH-OPTION...] [--] REMOTE-COMMAND: ssh from the source to the
# destination; like ssh, the remote command is one shell string.
ssh_dst() {
    # shellcheck disable=SC2086 # LSM_SSH is a command line by design
    on_src $LSM_SSH "$LSM_DST_ADDR" "$@"
}

# Simulates sshd dying under established connections: SIGKILLs every sshd
# process serving a connection (not the listener, not the remote commands,
# which are orphaned as after a real network loss). Fails if none was found.
hosts_kill_ssh_sessions() {
    local -a found=() queue=("$LSM_SSHD_PID")
    local pid child
    while ((${#queue[@]})); do
        pid="${queue[0]}"
        queue=("${queue[@]:1}")
        for child in $(pgrep -P "$pid"); do
            [[ "$(readlink "/proc/$child/exe")" == "$LSM_SSHD" ]] || continue
            found+=("$child")
            queue+=("$child")
        done
    done
    ((${#found[@]})) || { echo "hosts_kill_ssh_sessions: no ssh session to kill" >&2; return 1; }
    kill -KILL "${found[@]}" 2>/dev/null || true
}

# Silent network loss: packets stop, nobody gets a reset. Clients notice via
# ServerAliveInterval (about 3 s), sshd via ClientAliveInterval (about 6 s).
hosts_link_down() {
    ip -n "$LSM_SRC_NS" link set eth0 down
}

hosts_link_up() {
    ip -n "$LSM_SRC_NS" link set eth0 up
}

# hosts_link_rate MBIT: the source sends at most MBIT Mbit/s (a token bucket
# on its end of the link), as over a slow network, until the cleanup.
hosts_link_rate() {
    # A short queue (at most 100 ms of data), as on a router with sane
    # buffers: a long one adds its delay to every NBD request.
    ip netns exec "$LSM_SRC_NS" tc qdisc replace dev eth0 root tbf rate "${1}mbit" \
        burst 64kb latency 100ms || return
    cleanup_push hosts_link_full_rate
}

# The link at full speed again (nothing to undo is fine).
hosts_link_full_rate() {
    ip netns exec "$LSM_SRC_NS" tc qdisc del dev eth0 root 2>/dev/null || true
}

# Bytes the source has sent on the link so far.
hosts_link_tx_bytes() {
    ip netns exec "$LSM_SRC_NS" cat /sys/class/net/eth0/statistics/tx_bytes
}

# Prints what the fixture left behind (namespaces, processes inside them -
# which also hold the destination's mounts -, the scratch dir); fails if any.
hosts_leftovers() {
    local left=() id
    if ip netns list | grep -qE "^($LSM_SRC_NS|$LSM_DST_NS)( |\$)"; then
        left+=("namespace names: $(ip netns list | grep -E "^($LSM_SRC_NS|$LSM_DST_NS)")")
    fi
    for id in $LSM_HOSTS_NSIDS; do
        if find /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt -maxdepth 0 -printf '%l\n' 2>/dev/null |
                grep -qxF "$id"; then
            left+=("processes in $id")
        fi
    done
    [[ -e "$LSM_T" ]] && left+=("scratch dir $LSM_T")
    ((${#left[@]} == 0)) || { printf 'left behind: %s\n' "${left[@]}" >&2; return 1; }
}

# --- internals ---------------------------------------------------------------

_hosts_network() {
    local ns
    for ns in "$LSM_SRC_NS" "$LSM_DST_NS"; do
        ip netns add "$ns" || return
        # Deleting a name does not end the namespace while processes live in
        # it, so the hook kills them first; that also covers everything
        # started later on that host (sshd, sessions, qemu...).
        cleanup_push _hosts_netns_del "$ns"
        ip -n "$ns" link set lo up || return
    done
    # Created directly inside the namespaces: the root namespace never sees
    # the veth, and both ends can have the same plain name.
    ip link add eth0 netns "$LSM_SRC_NS" type veth peer name eth0 netns "$LSM_DST_NS" || return
    ip -n "$LSM_SRC_NS" addr add "$LSM_SRC_ADDR/24" dev eth0 || return
    ip -n "$LSM_DST_NS" addr add "$LSM_DST_ADDR/24" dev eth0 || return
    ip -n "$LSM_SRC_NS" link set eth0 up || return
    ip -n "$LSM_DST_NS" link set eth0 up || return
}

# A long-lived holder process owns the destination's mount and UTS namespaces
# (so `hostname` over ssh says lsm-dst); sshd and on_dst join it with nsenter.
_hosts_dst_namespaces() {
    local ready="$LSM_T/dst.ready"
    # fd 3 closed: bats waits for every holder of its fd 3 before finishing.
    # shellcheck disable=SC2016 # expanded by that sh
    ip netns exec "$LSM_DST_NS" unshare --mount --uts --propagation private \
        sh -c 'hostname lsm-dst && mount --bind "$1" "$2" && : >"$3" && exec sleep infinity' \
        lsm-dst-holder "$LSM_DST_DIR" "$LSM_SRC_DIR" "$ready" \
        </dev/null >"$LSM_T/dst.log" 2>&1 3>&- &
    export LSM_DST_PID=$! # ip, unshare, sh and sleep all exec: one pid
    # (killed by the netns hook registered above: the holder is in LSM_DST_NS)
    wait_until 10 test -e "$ready" || {
        echo "destination namespaces not ready:" >&2
        cat "$LSM_T/dst.log" >&2
        return 1
    }
    export LSM_HOSTS_NSIDS
    LSM_HOSTS_NSIDS="$(readlink "/proc/$LSM_DST_PID/ns/net" "/proc/$LSM_DST_PID/ns/mnt" |
        tr '\n' ' ')$(ip netns exec "$LSM_SRC_NS" readlink /proc/self/ns/net)"
}

_hosts_ssh_keys() {
    local d="$LSM_T/ssh"
    ssh-keygen -q -t ed25519 -N '' -C lsm-host -f "$d/host_key" || return
    ssh-keygen -q -t ed25519 -N '' -C lsm-user -f "$d/id_ed25519" || return
    cp "$d/id_ed25519.pub" "$d/authorized_keys" || return
    echo "$LSM_DST_ADDR $(cat "$d/host_key.pub")" >"$d/known_hosts" || return

    cat >"$LSM_SSH_CONFIG" <<EOF
# -F makes ssh ignore ~/.ssh/config and /etc/ssh/ssh_config.
Host *
    User root
    IdentityFile $d/id_ed25519
    IdentitiesOnly yes
    UserKnownHostsFile $d/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    UpdateHostKeys no
    BatchMode yes
    ConnectTimeout 5
    ServerAliveInterval 1
    ServerAliveCountMax 3
    ExitOnForwardFailure yes
    StreamLocalBindUnlink yes
    ControlMaster no
    ControlPath $d/cm-%C
    LogLevel ERROR
EOF

    # StrictModes no: authorized_keys lives under /tmp, which is world-writable.
    # UsePAM no keeps Debian's PAM session stack (pam_loginuid...) out of the
    # way, but then sshd refuses a root whose password is locked ('!').
    local use_pam=no
    [[ "$(getent shadow root | cut -d: -f2)" == '!'* ]] && use_pam=yes
    cat >"$d/sshd_config" <<EOF
ListenAddress $LSM_DST_ADDR:22
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM $use_pam
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
ClientAliveInterval 2
ClientAliveCountMax 3
MaxSessions 64
MaxStartups 64
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
StreamLocalBindUnlink yes
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
# The tools on this host read the test's host policy, not /etc/lsm's, and
# log to the test's syslog socket, not /dev/log.
SetEnv LSM_POLICY=$LSM_POLICY LSM_SYSLOG_SOCKET=$LSM_DST_SYSLOG
EOF
}

_hosts_sshd() {
    # Privilege-separation dir, normally made by the sshd service unit.
    mkdir -p /run/sshd && chmod 755 /run/sshd || return
    nsenter --target "$LSM_DST_PID" --mount --net --uts -- \
        "$LSM_SSHD" -D -e -f "$LSM_T/ssh/sshd_config" \
        </dev/null >"$LSM_T/ssh/sshd.log" 2>&1 3>&- &
    export LSM_SSHD_PID=$!
    # sshd writes its pid file once it listens.
    if ! wait_until 10 test -s "$LSM_T/ssh/sshd.pid" || ! ssh_dst true; then
        echo "sshd on the destination is not usable; its log:" >&2
        cat "$LSM_T/ssh/sshd.log" >&2
        return 1
    fi
}

_hosts_netns_del() {
    local ns="$1" _
    # Repeat: a dying sshd or shell may still spawn a child.
    for _ in 1 2 3; do
        # shellcheck disable=SC2046
        _hosts_kill $(ip netns pids "$ns" 2>/dev/null)
    done
    ip netns del "$ns" 2>/dev/null || true
}

# _hosts_kill PID...: TERM, then KILL after 3 s; returns once all are gone.
_hosts_kill() {
    (($#)) || return 0
    kill -TERM "$@" 2>/dev/null
    wait_until 3 _hosts_all_gone "$@" && return 0
    kill -KILL "$@" 2>/dev/null
    wait_until 3 _hosts_all_gone "$@"
}

# Zombies count as gone: they are our own unreaped background jobs.
_hosts_all_gone() {
    local pid stat
    for pid in "$@"; do
        stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
        stat="${stat##*) }"
        [[ "${stat%% *}" == Z ]] || return 1
    done
}
