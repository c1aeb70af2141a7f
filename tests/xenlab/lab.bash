# Nested Xen lab: two real Xen 4.17 hosts, "a" and "b", each a TCG QEMU
# running Xen with a Debian dom0 (build-dom0.sh), for migrations between
# real Xen hosts. Needs root. Load it after helpers/common:
#   load ../helpers/common
#   load lab                    (from tests/xenlab/; else load xenlab/lab)
#
# Network, all of it private to this machine:
#   lab link     e1000 NICs joined by a QEMU socket netdev on 127.0.0.1;
#                inside: lab0, a = 192.168.77.1, b = 192.168.77.2 (LAB_HOSTS)
#   management   second e1000, QEMU user networking with restrict=on (no way
#                out) that only forwards 127.0.0.1:PORT to the dom0's sshd
# Both dom0s mount LAB_SHARE (9p) at /lab: bin/ comes first in PATH, also for
# ssh commands between dom0s; state/ holds what the dom0s publish (host keys,
# guest consoles under state/NAME/console/).
#
# Functions:
#   lab_build                  build the dom0 image into LAB_IMAGES (cached)
#   lab_boot [HOOK]            boot both hosts, wait for LAB-READY on both (a
#                              watchdog fails on silence); with HOOK, both run
#                              it as /lab/run-in-dom0.sh NAME and power off
#                              once it has ended on both
#   lab_ssh HOST ARGS...       ssh root@HOST (a, b) with ARGS (remote command)
#   lab_run_on [-t SECS] HOST CMD...   the same, bounded (default 600 s), stdin /dev/null
#   lab_wait_exit [SECS]       (HOOK mode) waits for LAB-EXIT on both hosts;
#                              prints "a STATUS" and "b STATUS", fails unless both 0
#   lab_dump                   Xen debug keys ('q', '0') and console tails, to stderr
#   lab_teardown               kill both QEMUs (also registered with cleanup_push)
#   lab_leftovers              fails if a lab QEMU is still alive
# Exported by lab_boot: LAB_T (scratch, outside the share), LAB_SHARE,
# LAB_A_ADDR, LAB_B_ADDR, LAB_SSH_CONFIG, LAB_A_CONSOLE, LAB_B_CONSOLE,
# LAB_PIDS, LAB_BOOT_SECONDS.

LAB_SRC="$LSM_ROOT/tests/xenlab"
LAB_IMAGES="${LAB_IMAGES:-$LSM_BUILD/xenlab}"
LAB_A_ADDR=192.168.77.1
LAB_B_ADDR=192.168.77.2
LAB_SILENCE="${LAB_SILENCE:-180}"          # console silence that fails a boot
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-600}"
LAB_LIFETIME="${LAB_LIFETIME:-3600}"       # hard limit on each QEMU's life
# -xsave: with XSAVE, user-space FPU/SSE state in the nested dom0s gets
# corrupted now and then (TCG): a libc segfault in the initramfs, and about
# 40% of live migrations over ssh failed with garbage in libxc's own buffers
# (guest console text read back as page types). With FXSAVE (-xsave) none of
# 23 migrations (PVH, PV, HVM) failed.
LAB_QEMU_CPU="${LAB_QEMU_CPU:-max,-xsave}"
LAB_QEMU_SMP="${LAB_QEMU_SMP:-2}"          # knobs for experiments
LAB_QEMU_ACCEL="${LAB_QEMU_ACCEL:-tcg,thread=multi}"
LAB_XEN_EXTRA="${LAB_XEN_EXTRA:-}"         # appended to Xen's command line
export LAB_IMAGES LAB_A_ADDR LAB_B_ADDR

lab_build() {
    "$LAB_SRC/build-dom0.sh" "$LAB_IMAGES"
}

lab_require_built() {
    local f
    for f in dom0.img xen.elf vmlinuz initrd.img stamp; do
        [[ -s "$LAB_IMAGES/$f" ]] || {
            echo "xenlab: $LAB_IMAGES/$f missing; run 'make xenlab' (or lab_build) first" >&2
            return 1
        }
    done
}

lab_boot() {
    local hook="${1:-}"
    require_root
    require_cmd qemu-system-x86_64 ssh ssh-keygen timeout
    lab_require_built || return
    local t
    make_scratch t || return
    export LAB_T="$t" LAB_SHARE="$t/share" LAB_SSH_CONFIG="$t/ssh_config"
    export LAB_A_CONSOLE="$t/a.console" LAB_B_CONSOLE="$t/b.console" LAB_PIDS=""
    mkdir -p "$LAB_SHARE"/{ssh,state,bin,guest} || return
    ssh-keygen -q -t ed25519 -N '' -C lsm-xenlab -f "$LAB_SHARE/ssh/id_ed25519" || return
    echo "LAB_HOSTS=\"a=$LAB_A_ADDR b=$LAB_B_ADDR\"" >"$LAB_SHARE/lab.env"
    echo "LAB_A_ADDR=$LAB_A_ADDR LAB_B_ADDR=$LAB_B_ADDR" >>"$LAB_SHARE/lab.env"
    [[ -z "$hook" ]] || install -m 755 "$hook" "$LAB_SHARE/run-in-dom0.sh" || return

    local link_port ssh_a ssh_b
    link_port="$(_lab_free_port)" && ssh_a="$(_lab_free_port "$link_port")" &&
        ssh_b="$(_lab_free_port "$link_port" "$ssh_a")" || return
    _lab_ssh_config "$ssh_a" "$ssh_b"

    local start=$SECONDS
    # a listens on the link, so it must be up before b connects.
    _lab_qemu a 1 "$LAB_A_ADDR" "listen=127.0.0.1:$link_port" "$ssh_a" || return
    wait_until 10 _lab_listening "$link_port" || {
        echo "xenlab: host a does not listen on 127.0.0.1:$link_port" >&2
        cat "$t/a.qemu.err" >&2
        return 1
    }
    _lab_qemu b 2 "$LAB_B_ADDR" "connect=127.0.0.1:$link_port" "$ssh_b" || return
    _lab_wait_ready || return
    export LAB_BOOT_SECONDS=$((SECONDS - start))
    cat "$LAB_SHARE"/state/hostkey-{a,b} >"$t/known_hosts"
}

lab_ssh() {
    local host="${1,,}"
    shift
    ssh -F "$LAB_SSH_CONFIG" "lab-$host" "$@"
}

lab_run_on() {
    local secs=600
    if [[ "$1" == -t ]]; then
        secs="$2"
        shift 2
    fi
    timeout -k 5 "$secs" ssh -F "$LAB_SSH_CONFIG" -n "lab-${1,,}" "${@:2}"
}

lab_wait_exit() {
    local secs="${1:-900}" h rc=0 st
    _lab_watch "LAB-EXIT" "$secs" || return
    for h in a b; do
        st="$(sed -n 's/.*LAB-EXIT \([0-9]*\).*/\1/p' "$LAB_T/$h.console" | tail -n 1)"
        echo "$h $st"
        [[ "$st" == 0 ]] && continue
        rc=1
        echo "--- host $h: run-in-dom0.sh exited ${st:-?}; its output ($LAB_SHARE/state/$h-run.log):" >&2
        tail -n 30 "$LAB_SHARE/state/$h-run.log" >&2 2>/dev/null || true
    done
    return "$rc"
}

lab_dump() {
    local h
    for h in a b; do
        if ! _lab_alive "$h" || ! command -v socat >/dev/null; then continue; fi
        # Three ^A switch the serial input to Xen: q = domains and vcpus,
        # 0 = dom0's registers; three more give it back to dom0.
        printf '\001\001\001q0\001\001\001' |
            timeout 5 socat -u - "UNIX-CONNECT:$LAB_T/$h.con" 2>/dev/null || true
    done
    sleep 3
    for h in a b; do
        echo "--- host $h console (last 60 lines of $LAB_T/$h.console)" >&2
        tail -n 60 "$LAB_T/$h.console" 2>/dev/null | tr -d '\r' >&2
        [[ -s "$LAB_T/$h.qemu.err" ]] && { echo "--- host $h QEMU stderr" >&2; cat "$LAB_T/$h.qemu.err" >&2; }
    done
    return 0
}

lab_teardown() {
    local h
    for h in a b; do
        _lab_stop "$h"
    done
}

lab_leftovers() {
    local h left=()
    for h in a b; do
        _lab_alive "$h" && left+=("QEMU of host $h")
    done
    ((${#left[@]} == 0)) || { printf 'xenlab left behind: %s\n' "${left[@]}" >&2; return 1; }
}

# --- internals ---------------------------------------------------------------

# _lab_free_port [EXCLUDED...]: a TCP port nobody listens on (random, so
# parallel labs rarely collide; QEMU fails loudly if one does).
_lab_free_port() {
    local p i
    for ((i = 0; i < 100; i++)); do
        p=$((20000 + RANDOM % 30000))
        [[ " $* " == *" $p "* ]] && continue
        _lab_listening "$p" || { echo "$p"; return 0; }
    done
    echo "xenlab: no free port" >&2
    return 1
}

_lab_listening() {
    ss -Htln "sport = :$1" | grep -q .
}

_lab_ssh_config() {
    local k="$LAB_SHARE/ssh/id_ed25519"
    cat >"$LAB_SSH_CONFIG" <<EOF
# -F makes ssh ignore ~/.ssh/config and /etc/ssh/ssh_config.
Host lab-a
    HostName 127.0.0.1
    Port $1
    HostKeyAlias lab-a
Host lab-b
    HostName 127.0.0.1
    Port $2
    HostKeyAlias lab-b
Host *
    User root
    IdentityFile $k
    IdentitiesOnly yes
    UserKnownHostsFile $LAB_T/known_hosts
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    UpdateHostKeys no
    BatchMode yes
    ConnectTimeout 20
    ServerAliveInterval 5
    ServerAliveCountMax 12
    ControlMaster no
    LogLevel ERROR
EOF
}

# _lab_qemu NAME N ADDR LINK-NETDEV-OPTION SSH-PORT: starts host NAME in the
# background under `timeout` (LAB_LIFETIME), registers its kill.
_lab_qemu() {
    local name="$1" n="$2" addr="$3" link="$4" ssh_port="$5" img="$LAB_IMAGES"
    local dom0_args="console=hvc0 root=LABEL=dom0root rw init=/lab-init lab.name=$name lab.addr=$addr/24"
    local args=(
        qemu-system-x86_64 -name "lab-$name" -accel "$LAB_QEMU_ACCEL" -machine pc
        -cpu "$LAB_QEMU_CPU" -smp "$LAB_QEMU_SMP" -m 2G -nodefaults -display none -no-reboot
        -kernel "$img/xen.elf"
        -append "console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=2 smap=0 $LAB_XEN_EXTRA"
        -initrd "$img/vmlinuz $dom0_args,$img/initrd.img"
        -drive "file=$img/dom0.img,if=virtio,format=raw,cache=unsafe,snapshot=on"
        -netdev "socket,id=lab,$link" -device "e1000,netdev=lab,mac=52:54:00:4c:00:0$n"
        -netdev "user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:$ssh_port-:22"
        -device "e1000,netdev=mgmt,mac=52:54:00:4d:00:0$n"
        -virtfs "local,path=$LAB_SHARE,mount_tag=share,security_model=none"
        -chardev "socket,id=con,path=$LAB_T/$name.con,server=on,wait=off,logfile=$LAB_T/$name.console"
        -serial chardev:con
        -qmp "unix:$LAB_T/$name.qmp,server=on,wait=off"
    )
    # Closing every inherited fd > 2: bats waits for whoever holds its pipes.
    (
        for fd in /proc/self/fd/*; do
            fd="${fd##*/}"
            ((fd > 2)) && eval "exec $fd>&-"
        done
        exec timeout -k 10 "$LAB_LIFETIME" "${args[@]}"
    ) </dev/null >"$LAB_T/$name.qemu.err" 2>&1 &
    local pid=$!
    echo "$pid" >"$LAB_T/$name.pid"
    LAB_PIDS="$LAB_PIDS $pid"
    cleanup_push _lab_stop "$name"
    sleep 1
    _lab_alive "$name" || {
        echo "xenlab: QEMU of host $name exited at once: $(tr '\n' ' ' <"$LAB_T/$name.qemu.err")" >&2
        return 1
    }
}

_lab_alive() {
    local pid state
    pid="$(cat "$LAB_T/$1.pid" 2>/dev/null)" || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
    [[ -n "$state" && "$state" != Z ]]
}

_lab_gone() { ! _lab_alive "$1"; }

# TERM to timeout goes on to QEMU (KILL 10 s later if needed); reaps it.
_lab_stop() {
    local pid
    pid="$(cat "$LAB_T/$1.pid" 2>/dev/null)" || return 0
    if _lab_alive "$1"; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_until 20 _lab_gone "$1" || kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    return 0
}

_lab_wait_ready() {
    _lab_watch "LAB-READY" "$LAB_BOOT_TIMEOUT"
}

# _lab_watch WORD SECS: waits until both consoles show WORD. Fails at once
# on LAB-FAIL or a dead QEMU, after LAB_SILENCE s without console output
# from a host, or after SECS; on failure dumps the lab's state.
_lab_watch() {
    local word="$1" deadline=$((SECONDS + $2)) h size why=""
    local -A last_size=([a]=-1 [b]=-1) last_change=([a]=$SECONDS [b]=$SECONDS)
    while :; do
        local done=0
        for h in a b; do
            if grep -qa "$word" "$LAB_T/$h.console" 2>/dev/null; then
                done=$((done + 1))
                continue
            fi
            if grep -qa "LAB-FAIL" "$LAB_T/$h.console" 2>/dev/null; then
                why="host $h: $(grep -a -m1 -o 'LAB-FAIL.*' "$LAB_T/$h.console" | tr -d '\r')"
            elif ! _lab_alive "$h"; then
                why="host $h: QEMU exited before $word"
            fi
            size="$(stat -c %s "$LAB_T/$h.console" 2>/dev/null || echo 0)"
            if ((size != last_size[$h])); then
                last_size[$h]=$size
                last_change[$h]=$SECONDS
            elif ((SECONDS - last_change[$h] >= LAB_SILENCE)); then
                why="host $h: console silent for ${LAB_SILENCE}s"
            fi
            [[ -z "$why" ]] || break
        done
        ((done == 2)) && return 0
        [[ -z "$why" ]] && ((SECONDS >= deadline)) && why="no $word on both hosts within $2 s"
        if [[ -n "$why" ]]; then
            echo "xenlab: $why" >&2
            lab_dump
            return 1
        fi
        sleep 1
    done
}
