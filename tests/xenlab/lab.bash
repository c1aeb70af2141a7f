# Nested Xen lab: two real Xen 4.17 hosts, "a" and "b", each a TCG QEMU
# running Xen with a Debian dom0 (build-dom0.sh), for migrations between
# real Xen hosts. Needs root. It brings helpers/common and helpers/guest
# along, so a bats file needs only
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
#   lab_sh [-t SECS] HOST SCRIPT ARG...  sh -c SCRIPT with ARGs kept whole, on HOST
#   lab_wait_exit [SECS]       (HOOK mode) waits for LAB-EXIT on both hosts;
#                              prints "a STATUS" and "b STATUS", fails unless both 0
#   lab_dump                   Xen debug keys ('q', '0') and console tails, to stderr
#   lab_teardown               kill both QEMUs (also registered with cleanup_push)
#   lab_leftovers              fails if a lab QEMU is still alive
#   lab_install_tools          copy the lsm tools (build/bin) and lsm-migrate.sh
#                              to the share's bin/ (lab_boot does it once)
#   lab_require_tools          fails unless all those tools are built
# Test guests (the busybox guest of tests/guest as a Xen domU):
#   lab_guest_install          copy kernel, initramfs and verifier to the share
#   lab_guest_create HOST NAME TYPE        create and start pv, pvh, hvm or pvhvm guest NAME
#   lab_guest_console_logs NAME [HOST]     its xenconsoled logs (after a
#                              migration the destination's is NAME--incoming)
#   lab_guest_acked NAME [HOST]            highest generation acked in them
#   lab_guest_console_has HOST NAME TEXT   its console on HOST says TEXT
#   lab_guest_wait_acks HOST NAME MINGEN SECS   wait for an ack on HOST
#   lab_ack_watch NAME, lab_ack_gaps NAME  time its acks on this machine's
#                              clock; the longest gap is the pause it saw
#   lab_guest_stop HOST NAME               pause, let I/O settle, destroy
#   lab_guest_verify HOST NAME [ACKED]     lsm-guest-verify its image on HOST
#   lab_guest_qmp HOST NAME JSON           one QMP command to its device model
#   lab_host_clean HOST NAME [--keep-image]  no domain NAME* and nothing of it
#   lab_guest_purge NAME                   destroy NAME* on both hosts, remove images
# For bats test files (bats' skip, run and fd 3; bats-assert):
#   lab_setup_suite, lab_teardown_suite   one lab for every file of the run
#   lab_setup_file             setup_file: skip (LSM_SKIP_LAB=1), or the lab is up
#   lab_setup_test             setup: bats-assert
#   lab_teardown_test          teardown: purge the guest named in GUEST
#   lab_seconds_since T0                   seconds since EPOCHREALTIME T0
#   lab_guest_time_first_ack HOST NAME TYPE SECS  create, report the first ack
#   lab_assert_query_block HOST NAME TEXT...      QMP query-block shows each TEXT
#   lab_guest_stop_and_verify HOST NAME    stop; image verifies; HOST clean
# Exported by lab_boot: LAB_T (scratch, outside the share), LAB_SHARE,
# LAB_A_ADDR, LAB_B_ADDR, LAB_SSH_CONFIG, LAB_A_CONSOLE, LAB_B_CONSOLE,
# LAB_PIDS, LAB_BOOT_SECONDS.

# Sourced only if not loaded yet: a second helpers/common would drop the
# cleanups registered so far (boot-hosts.sh sources it before this file).
# shellcheck source=SCRIPTDIR/../helpers/common.bash
declare -F cleanup_push >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../helpers/common.bash"
# shellcheck source=SCRIPTDIR/../helpers/guest.bash
declare -F guest_acked >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../helpers/guest.bash"

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
# Test guests: small, because the lab link moves only ~5 MB/s. 96 MB is the
# least a PV domain boots the Debian kernel in; the disk is sparse.
LAB_GUEST_DIR=/var/lib/xenlab              # guest images, on each dom0's disk
LAB_GUEST_MEM="${LAB_GUEST_MEM:-96}"
LAB_GUEST_VCPUS="${LAB_GUEST_VCPUS:-1}"
# LAB_GUEST_MEMDIRTY_MB=N: the guest fills N MiB of its RAM and keeps
# rewriting it, on a vCPU of its own if it has two (lsm.memdirty).
LAB_GUEST_MEMDIRTY_MB="${LAB_GUEST_MEMDIRTY_MB:-0}"
LAB_GUEST_BOOT_SECS="${LAB_GUEST_BOOT_SECS:-150}"
# LAB_GUEST_IP=ADDR/LEN: the guest gets a vif on LAB_BRIDGE with that
# address (lab_bridge_up first); unset, it has no network.
LAB_GUEST_IP="${LAB_GUEST_IP:-}"
LAB_BRIDGE=xenbr0
LAB_BRIDGE_ADDR=10.99.0.1/24                # the same on each dom0's bridge
LAB_GUEST_DISK_MB="${LAB_GUEST_DISK_MB:-16}"
# The writer, paced: with 64 blocks and no pause it dirtied its disk faster
# than lsm's mirror copied it over the lab link (minutes to converge).
LAB_GUEST_BLOCKS="${LAB_GUEST_BLOCKS:-16}" # region the writer rewrites (4 KiB blocks)
LAB_GUEST_SLEEP_MS="${LAB_GUEST_SLEEP_MS:-200}" # its pause after each generation
LAB_GUEST_FILL_MB="${LAB_GUEST_FILL_MB:-0}" # random data at 8 MiB on (< DISK_MB - 8)
# PV disk options: qdisk keeps writes in QEMU; "" leaves libxl's default
# (blkback for a raw file), which lsm must refuse.
LAB_GUEST_PV_BACKEND="${LAB_GUEST_PV_BACKEND-backendtype=qdisk, }"
LAB_GUEST_QCOW2="${LAB_GUEST_QCOW2:-0}"  # 1: a PV guest's second disk, xvdb, qcow2
LAB_VG=lsmlab                              # lab_vg_up's volume group on each dom0
# 1: a PV guest's disk is the logical volume /dev/LAB_VG/NAME (lab_vg_up on
# the hosts first), not the file LAB_GUEST_DIR/NAME.raw.
LAB_GUEST_LV="${LAB_GUEST_LV:-0}"
# The lsm tools that lsm-migrate.sh runs on both hosts (lab_install_tools).
LAB_TOOLS=("$LSM_BIN"/lsm-{dmstate,mirror,ramstream,resume} "$LSM_ROOT/scripts/lsm-migrate.sh")
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
    lab_install_tools
}

# What is built of the lsm tools goes to the share (copies: a symlink out of
# the 9p share does not resolve in the dom0s). A test that needs them checks
# (lab_require_tools). Each dom0 gets the lab's host policy (policy.conf) as
# its /etc/lsm/policy.conf; the dom0 disk is a snapshot, so it lasts a boot.
lab_install_tools() {
    local f h
    for f in "${LAB_TOOLS[@]}"; do
        [[ -x "$f" ]] || continue
        install -m 755 "$f" "$LAB_SHARE/bin/" || return
    done
    install -m 644 "$LAB_SRC/policy.conf" "$LAB_SHARE/policy.conf" || return
    for h in a b; do
        lab_run_on -t 60 "$h" install -D -m 644 /lab/policy.conf /etc/lsm/policy.conf || return
    done
}

# lab_require_tools: fails unless every lsm tool is built, for the tests
# that run them: lab_install_tools passes over what is missing.
lab_require_tools() {
    local f
    for f in "${LAB_TOOLS[@]}"; do
        [[ -x "$f" ]] || { echo "$f missing; run make first" >&2; return 1; }
    done
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

# lab_sh [-t SECS] HOST SCRIPT [ARG...]: runs sh -c SCRIPT with ARGs as $1...
# on HOST, bounded like lab_run_on. ssh joins its arguments into one command
# line for the remote shell; quoting them here keeps the ARGs whole.
lab_sh() {
    local t=()
    if [[ "$1" == -t ]]; then
        t=(-t "$2")
        shift 2
    fi
    local host="$1" script="$2"
    shift 2
    lab_run_on "${t[@]}" "$host" "sh -c $(printf %q "$script") sh$(printf ' %q' "$@")"
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

# --- test guests -------------------------------------------------------------
# The guest of tests/guest (`make guest`) acks on its console, kernel
# messages and all; both end up in the share, per host:
#   PV   hvc0, logged by xenconsoled: state/HOST/console/guest-NAME.log, or
#        guest-NAME--incoming.log for a guest that migrated in (xenconsoled
#        names the log when it attaches, before the domain is renamed)
#   HVM  ttyS0, the emulated UART, which xenconsoled does not read (it logs
#        only PV consoles): the device model writes it to the file
#        LAB_GUEST_DIR/console/NAME.serial.log, where console is each dom0's
#        link to its own state/HOST/console (lab-init). The path is the same
#        on every host, so the device model's command line replays as is on a
#        migration's destination, whose file is its own.
# Its one disk is LAB_GUEST_DIR/NAME.raw on the host that runs it; the disk id
# in its acks and blocks is xvda (PV) or sda (HVM).

lab_guest_install() {
    guest_require_built || return
    install -m 644 "$LSM_GUEST_KERNEL" "$LSM_GUEST_INITRD" "$LAB_SHARE/guest/" &&
        install -m 755 "$LSM_GUEST_VERIFY" "$LAB_SHARE/guest/"
}

# lab_guest_disk_id NAME: the id the guest acks its disk under.
lab_guest_disk_id() {
    case "$(_lab_guest_type "$1")" in
        pv|pvh|pvhvm) echo xvda ;;
        hvm) echo sda ;;
        *) echo "lab_guest_disk_id: no guest $1 (lab_guest_create)" >&2; return 1 ;;
    esac
}

# lab_guest_create HOST NAME TYPE: writes /lab/guest/NAME.cfg, a fresh sparse
# disk on HOST, and starts the guest there with xl create. TYPE:
#   pv   disk on QEMU's qdisk backend (backendtype=qdisk): every write goes
#        through the device model, where lsm can mirror it
#   pvh  the same in a PVH container
#   hvm  qemu-xen device model, emulated IDE disk and no PV drivers
#        (xen_platform_pci=0): the guest writes through QEMU too
#   pvhvm  HVM with PV drivers, as xl makes HVM guests by default
#        (xen_platform_pci=1): the guest unplugs the emulated IDE disk and
#        writes through xen-blkfront to the qdisk backend in QEMU
# Earlier console logs of NAME are removed on both hosts, so acks read later
# are this guest's. Returns once the guest has printed on its console; it
# acks some seconds (PV) to a minute (HVM) later: lab_guest_wait_acks.
# A guest that prints nothing within LAB_GUEST_BOOT_SECS is shown (xl list,
# the hypervisor's last messages), destroyed and created once more: on a
# loaded CI machine a nested TCG guest was seen to print nothing in 300 s
# (once in many boots). lsm plays no part in a boot.
lab_guest_create() {
    local host="$1" name="$2" try
    for try in 1 2; do
        _lab_guest_start "$@" || return
        wait_until "$LAB_GUEST_BOOT_SECS" _lab_guest_printed "$name" "$host" && return 0
        echo "# xenlab: guest $name printed nothing on host $host in ${LAB_GUEST_BOOT_SECS}s (try $try):" >&3
        lab_run_on -t 60 "$host" "xl list $name; xl dmesg | tail -n 15" 2>&1 | sed 's/^/#   /' >&3 || true
        lab_sh -t 120 "$host" 'xl destroy "$1"' "$name" || true
    done
    echo "lab_guest_create: guest $name printed nothing on host $host, twice" >&2
    return 1
}

# _lab_guest_printed NAME HOST: NAME wrote something to its console on HOST
# (xenconsoled's log starts with a line of its own).
_lab_guest_printed() {
    local log
    while read -r log; do
        [[ -f "$log" ]] && grep -qv 'Logfile Opened' "$log" && return 0
    done < <(lab_guest_console_logs "$1" "$2")
    return 1
}

_lab_guest_start() {
    local host="$1" name="$2" type="$3" cfg="$LAB_SHARE/guest/$2.cfg"
    local blocks="lsm.blocks=$LAB_GUEST_BLOCKS lsm.sleep=$LAB_GUEST_SLEEP_MS" image="$LAB_GUEST_DIR/$2.raw"
    ((LAB_GUEST_LV == 0)) || image="/dev/$LAB_VG/$2"
    ((LAB_GUEST_MEMDIRTY_MB == 0)) || blocks+=" lsm.mem=$LAB_GUEST_MEMDIRTY_MB lsm.memdirty=1"
    local logs vif=""
    if [[ -n "$LAB_GUEST_IP" ]]; then
        blocks+=" lsm.ip=$LAB_GUEST_IP"
        # Xen's own vif-bridge script plugs it into the bridge.
        vif="\"bridge=$LAB_BRIDGE\""
    fi
    mapfile -t logs < <(lab_guest_console_logs "$name")
    rm -f "${logs[@]}"
    {
        echo "# $type test guest, lab_guest_create (tests/xenlab/lab.bash)"
        echo "name = \"$name\""
        echo "type = \"${type/pvhvm/hvm}\""
        echo "memory = $LAB_GUEST_MEM"
        echo "vcpus = $LAB_GUEST_VCPUS"
        echo "vif = [ $vif ]"
        echo "kernel = \"/lab/guest/vmlinuz\""
        echo "ramdisk = \"/lab/guest/initramfs.cpio.gz\""
        # A guest that panics stays for a look; one that reboots is gone
        # rather than silently starting over.
        echo "on_crash = \"preserve\""
        echo "on_reboot = \"destroy\""
        case "$type" in
            pv|pvh)
                # PVH runs in an HVM container: Xen under TCG cannot
                # emulate RDTSCP for it.
                [[ "$type" == pvh ]] && echo "tsc_mode = \"native\""
                echo "extra = \"console=hvc0 panic=-1 $blocks lsm.ack=/dev/hvc0\""
                local qcow2=""
                ((LAB_GUEST_QCOW2)) &&
                    qcow2=", \"format=qcow2, vdev=xvdb, access=rw, ${LAB_GUEST_PV_BACKEND}target=$LAB_GUEST_DIR/$name.qcow2\""
                echo "disk = [ \"format=raw, vdev=xvda, access=rw, ${LAB_GUEST_PV_BACKEND}target=$image\"$qcow2 ]"
                ;;
            hvm|pvhvm)
                # quiet: every byte on the emulated UART is a trip through
                # Xen to the device model, and the boot log alone took a
                # minute of the guest's boot in the nested lab.
                echo "cmdline = \"console=ttyS0 quiet panic=-1 $blocks lsm.ack=/dev/ttyS0\""
                if [[ "$type" == pvhvm ]]; then
                    echo "disk = [ \"format=raw, vdev=xvda, access=rw, backendtype=qdisk, target=$image\" ]"
                    echo "xen_platform_pci = 1"
                else
                    echo "disk = [ \"format=raw, vdev=xvda, access=rw, target=$image\" ]"
                    echo "xen_platform_pci = 0"
                fi
                echo "device_model_version = \"qemu-xen\""
                # Under TCG Xen cannot emulate RDTSCP for HVM guests.
                echo "tsc_mode = \"native\""
                # ttyS0 to the host's own console dir (see above).
                echo "serial = \"file:$LAB_GUEST_DIR/console/$name.serial.log\""
                # No display: less device model, no video RAM to migrate.
                echo "vga = \"none\""
                echo "vnc = 0"
                ;;
            *) echo "lab_guest_create: TYPE is pv, pvh, hvm or pvhvm, not '$type'" >&2; return 2 ;;
        esac
    } >"$cfg" || return
    # LAB_GUEST_FILL_MB of random data past the writer's region give a
    # mirror something to copy for a while. A volume is zeroed where the
    # writer looks for its last generation: its extents may have been an
    # earlier guest's.
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 180 "$host" 'case "$1" in
        /dev/*) lvremove -q -y "${1#/dev/}" 2>/dev/null
            lvcreate -q -y --wipesignatures n -L "$2M" -n "${1##*/}" "$(basename "${1%/*}")" &&
                dd if=/dev/zero of="$1" bs=1M count=8 status=none ;;
        *) rm -f "$1" "${1%.raw}.qcow2" && truncate -s "$2M" "$1" ;;
        esac &&
        { [ "$4" = 0 ] || dd if=/dev/urandom of="$1" bs=1M seek=8 count="$4" conv=notrunc status=none; } &&
        { [ "$5" = 0 ] || qemu-img create -q -f qcow2 "${1%.raw}.qcow2" "$2M"; } &&
        xl create -q "$3"' \
        "$image" "$LAB_GUEST_DISK_MB" "/lab/guest/$name.cfg" "$LAB_GUEST_FILL_MB" "$LAB_GUEST_QCOW2"
}

# lab_vg_up HOST: the volume group LAB_VG on HOST, on a loop device over
# a sparse file, for guests with LAB_GUEST_LV. No udev in the dom0s: LVM
# makes the device nodes itself.
lab_vg_up() {
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 120 "$1" 'vgs "$1" >/dev/null 2>&1 && exit 0
        printf "%s\n" "devices { obtain_device_list_from_udev = 0 }" \
            "activation { udev_sync = 0 udev_rules = 0 }" >/etc/lvm/lvm.conf &&
        truncate -s 256M "$2" && dev="$(losetup -f --show "$2")" &&
        pvcreate -q "$dev" && vgcreate -q "$1" "$dev"' "$LAB_VG" "$LAB_GUEST_DIR/$LAB_VG.pv"
}

# lab_bridge_up HOST: LAB_BRIDGE on HOST with LAB_BRIDGE_ADDR, for guests
# with LAB_GUEST_IP; no uplink: the dom0 and its guests alone.
lab_bridge_up() {
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 60 "$1" 'ip link show "$1" >/dev/null 2>&1 ||
        { ip link add "$1" type bridge && ip addr add "$2" dev "$1" && ip link set "$1" up; }' \
        "$LAB_BRIDGE" "$LAB_BRIDGE_ADDR"
}

# lab_guest_console_logs NAME [HOST]: the console logs of NAME on HOST (both
# hosts without HOST), existing or not, for guest_acked.
lab_guest_console_logs() {
    local name="$1" h
    for h in ${2:-a b}; do
        echo "$LAB_SHARE/state/$h/console/guest-$name.log"
        echo "$LAB_SHARE/state/$h/console/guest-$name--incoming.log"
        echo "$LAB_SHARE/state/$h/console/$name.serial.log"
    done
}

# lab_guest_report HOST NAME: what xl on HOST says of NAME, and the end of
# each of NAME's consoles there (fd 3): whether a guest in a failed
# migration had died by itself.
lab_guest_report() {
    local log
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 60 "$1" 'xl list "$1"' "$2" 2>&1 | sed "s/^/#   $1: /" >&3 || true
    while read -r log; do
        [[ ! -s "$log" ]] || tail -n 15 "$log" | sed "s|^|#   ${log##*/}: |" >&3
    done < <(lab_guest_console_logs "$2" "$1")
}

# lab_guest_console_has HOST NAME TEXT: NAME's console on HOST says TEXT.
lab_guest_console_has() {
    local log
    while read -r log; do
        grep -qsF -- "$3" "$log" && return 0
    done < <(lab_guest_console_logs "$2" "$1")
    return 1
}

# lab_guest_acked NAME [HOST [ID]]: the highest generation NAME acked on
# HOST (both hosts without HOST or with HOST ""), for its first disk or the
# disk ID; 0 if none.
lab_guest_acked() {
    local id="${3:-}" logs
    [[ -n "$id" ]] || id="$(lab_guest_disk_id "$1")" || return
    mapfile -t logs < <(lab_guest_console_logs "$1" "${2:-}")
    guest_acked "${logs[@]}" "$id"
}

# lab_ack_watch NAME: from now until lab_ack_gaps, this machine notes on its
# own clock when each new generation of NAME shows up in a console log of
# either host. A migration's pause is then one clock's measure, whatever the
# dom0s' clocks (read from QEMU's RTC at boot, to the second) say.
lab_ack_watch() {
    local name="$1" id
    id="$(lab_guest_disk_id "$name")" || return
    : >"$LAB_T/$name.ack-times"
    _lab_ack_watch "$name" "$id" "$LAB_T/$name.ack-times" 3>&- &
    LAB_ACK_WATCH_PID=$!
}

_lab_ack_watch() {
    local name="$1" id="$2" out="$3" last=0 gen logs
    mapfile -t logs < <(lab_guest_console_logs "$name")
    while :; do
        gen="$(guest_acked "${logs[@]}" "$id")"
        if ((gen > last)); then
            echo "$EPOCHREALTIME $gen" >>"$out"
            last="$gen"
        fi
        sleep 0.02
    done
}

# lab_ack_gaps NAME: ends the watch; prints "LONGEST MEDIAN", in seconds, of
# the times between two new generations: the longest is the pause the guest
# saw (plus one write), the median what one write takes.
lab_ack_gaps() {
    kill "$LAB_ACK_WATCH_PID" 2>/dev/null || true
    awk 'NR > 1 { print $1 - t } { t = $1 }' "$LAB_T/$1.ack-times" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) printf "%.2f %.2f\n", v[NR], v[int((NR + 1) / 2)] }'
}

_lab_guest_acked_at_least() { (($(lab_guest_acked "$1" "$2") >= $3)); }

# lab_guest_wait_acks HOST NAME MINGEN SECS: waits until NAME, running on
# HOST, acked generation MINGEN or later there; else shows the console tail.
lab_guest_wait_acks() {
    local host="$1" name="$2" min="$3" secs="$4" log
    wait_until "$secs" _lab_guest_acked_at_least "$name" "$host" "$min" && return 0
    echo "lab_guest_wait_acks: $name acked up to $(lab_guest_acked "$name" "$host") on host $host, wanted $min within ${secs}s" >&2
    while read -r log; do
        [[ -f "$log" ]] || continue
        echo "--- tail of $log" >&2
        tail -n 15 "$log" | tr -d '\r' >&2
    done < <(lab_guest_console_logs "$name" "$host")
    return 1
}

# lab_guest_stop HOST NAME: stops NAME for good. Paused first, so its vCPUs
# issue nothing more, then a moment for the device model to finish the
# writes in flight: a block cut in half would fail the verification.
lab_guest_stop() {
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 120 "$1" 'xl pause "$1" && sleep 2 && xl destroy "$1"' "$2"
}

# lab_guest_verify HOST NAME [ACKED]: lsm-guest-verify on NAME's image on
# HOST, at ACKED (default: the highest generation acked on either host).
# Only for a stopped guest (lab_guest_stop).
lab_guest_verify() {
    local host="$1" name="$2" acked="${3:-}" id
    id="$(lab_guest_disk_id "$name")" || return
    [[ -n "$acked" ]] || acked="$(lab_guest_acked "$name")"
    lab_run_on -t 120 "$host" /lab/guest/lsm-guest-verify --blocks "$LAB_GUEST_BLOCKS" \
        --acked "$acked" --id "$id" "$(lab_guest_image "$name")"
}

# lab_guest_image NAME: the path of NAME's first disk, as its
# configuration names it (the same on every host).
lab_guest_image() {
    sed -n 's/^disk = \[ "[^"]*target=\([^",]*\)".*/\1/p' "$LAB_SHARE/guest/$1.cfg"
}

# lab_guest_qmp HOST NAME JSON: sends the QMP command JSON (one line) to the
# monitor libxl gave NAME's device model (/var/run/xen/qmp-libxl-DOMID) and
# prints QEMU's replies: greeting, capabilities, then JSON's. The device
# model serves one client at a time and libxl waits for it: keep it short.
lab_guest_qmp() {
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 60 "$1" 'd="$(xl domid "$1")" || exit
        printf "%s\n" "{\"execute\":\"qmp_capabilities\"}" "$2" |
            socat -t 3 - "UNIX-CONNECT:/var/run/xen/qmp-libxl-$d"' "$2" "$3"
}

# lab_host_clean HOST NAME [--keep-image]: fails, naming what it found, if
# HOST has a domain NAME (or NAME--incoming, NAME--migratedaway), a process
# or lsm run file naming NAME, or NAME's image (unless --keep-image). Logs
# (*.log under /run/lsm) may stay: they are for whoever investigates.
lab_host_clean() {
    local keep=0
    [[ "${3:-}" == --keep-image ]] && keep=1
    # shellcheck disable=SC2016 # expanded on HOST
    lab_sh -t 120 "$1" 'name="$1" image="$2" keep="$3" left=""
        for d in "$name" "$name--incoming" "$name--migratedaway"; do
            xl domid "$d" >/dev/null 2>&1 && left="$left domain:$d"
        done
        for i in "$image" "${image%.raw}.qcow2"; do
            [ "$keep" = 1 ] || [ ! -e "$i" ] || left="$left file:$i"
        done
        for f in $(find /var/run/xen /tmp "${image%/*}" -maxdepth 1 \
                -name "*$name*" ! -path "$image" ! -path "${image%.raw}.qcow2" 2>/dev/null) \
            $(find /run/lsm -name "*$name*" ! -name "*.log" ! -name "*.lock" 2>/dev/null); do
            left="$left file:$f"
        done
        # Shells (this one, its ssh session) have NAME in their command line.
        for p in $(pgrep -f -- "$name"); do
            case "$(cat "/proc/$p/comm" 2>/dev/null)" in
                ""|sh|bash|sshd|pgrep) ;;
                *) left="$left process:$(tr "\0" " " <"/proc/$p/cmdline")" ;;
            esac
        done
        [ -z "$left" ] && exit 0
        echo "host $(hostname) still has:$left" >&2
        exit 1' "$2" "$(lab_guest_image "$2")" "$keep"
}

# lab_guest_purge NAME: whatever is left of NAME on either host goes
# (domains, images); for teardowns, so a failed test's guest does not eat
# the lab's CPU in the next test.
lab_guest_purge() {
    local h
    for h in a b; do
        # shellcheck disable=SC2016 # expanded on HOST
        lab_sh -t 120 "$h" 'for d in "$1" "$1--incoming" "$1--migratedaway"; do
                xl destroy "$d" 2>/dev/null
            done
            case "$2" in
                /dev/*) lvremove -q -y "${2#/dev/}" 2>/dev/null ;;
                *) rm -f "$2" "${2%.raw}.qcow2" ;;
            esac' "$1" "$(lab_guest_image "$1")" || true
    done
}

_lab_guest_type() {
    sed -n 's/^# \([a-z]*\) test guest, .*/\1/p' "$LAB_SHARE/guest/$1.cfg" 2>/dev/null
}

# --- for bats test files -----------------------------------------------------
# One lab serves every lab test file of a bats run (the boot takes over a
# minute): tests/xenlab/setup_suite.bash boots it before the first file and
# takes it down after the last, also when one file is run alone. Each test
# names its guest in GUEST. Like test bodies, these rely on bats' errexit:
# call them as plain commands, not in a condition, or a failed step goes
# unnoticed.

# lab_setup_suite: the setup_suite of tests/xenlab. Nothing with
# LSM_SKIP_LAB=1 (the files skip). Fails at once, not after minutes of
# build and boot, unless the test guest and every lsm tool are built. Then
# builds the dom0 image (reporting how long that took), boots the lab and
# installs the test guest in the share.
lab_setup_suite() {
    local t h
    [[ "${LSM_SKIP_LAB:-}" != 1 ]] || return 0
    guest_require_built
    lab_require_tools
    t=$SECONDS
    lab_build
    echo "# xenlab: dom0 image ready after $((SECONDS - t)) s" >&3
    lab_boot ""    # no HOOK: the hosts stay up for the tests
    echo "# xenlab: both hosts LAB-READY $LAB_BOOT_SECONDS s after QEMU start" >&3
    # Dom0 first when a guest keeps its vCPUs busy, as Xen's tuning advice
    # has it: its two vCPUs share the host's two with the guests', and a
    # starved dom0 stalls the migration and its own sshd.
    for h in a b; do
        lab_run_on -t 60 "$h" xl sched-credit2 -d Domain-0 -w 1024 || return
    done
    lab_guest_install
}

# lab_teardown_suite: the lab goes down (lab_boot registered its QEMUs with
# cleanup_push); fails if a QEMU outlived that.
lab_teardown_suite() {
    cleanup_run
    lab_leftovers
}

# lab_setup_file: the setup_file of a lab test file: skips it with
# LSM_SKIP_LAB=1, else checks that the suite's lab is up.
lab_setup_file() {
    [[ "${LSM_SKIP_LAB:-}" != 1 ]] || skip "LSM_SKIP_LAB=1"
    [[ -n "${LAB_SHARE:-}" && -d "$LAB_SHARE" ]] || {
        echo "xenlab: no lab is up (tests/xenlab/setup_suite.bash boots it)" >&2
        return 1
    }
}

# lab_setup_test: the assertions, for the tests and the helpers below.
lab_setup_test() {
    bats_load_library bats-support
    bats_load_library bats-assert
}

# lab_teardown_test: the test's ack watch ends (a test that failed before
# lab_ack_gaps leaves it running, and bats would wait for it forever), and
# its guest (GUEST) goes from both hosts, so a failed test's guest does not
# eat the lab's CPU in the next test.
lab_teardown_test() {
    [[ -z "${LAB_ACK_WATCH_PID:-}" ]] || kill "$LAB_ACK_WATCH_PID" 2>/dev/null || true
    [[ -z "${GUEST:-}" ]] || lab_guest_purge "$GUEST"
}

# lab_seconds_since T0: seconds since EPOCHREALTIME value T0, to a tenth.
lab_seconds_since() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# lab_guest_time_first_ack HOST NAME TYPE SECS: creates guest NAME of TYPE
# on HOST, waits up to SECS for its first ack and reports (fd 3) how long
# that took from before xl create.
lab_guest_time_first_ack() {
    local host="$1" name="$2" type="$3" secs="$4" t0=$EPOCHREALTIME
    lab_guest_create "$host" "$name" "$type"
    lab_guest_wait_acks "$host" "$name" 1 "$secs"
    echo "# xenlab: ${type^^} guest acked its first generation $(lab_seconds_since "$t0") s after xl create" >&3
}

# lab_assert_query_block HOST NAME TEXT...: NAME's device model on HOST
# answers QMP query-block with every TEXT in its reply.
lab_assert_query_block() {
    local host="$1" name="$2" text
    shift 2
    run -0 lab_guest_qmp "$host" "$name" '{"execute":"query-block"}'
    for text in "$@"; do
        assert_output --partial "$text"
    done
}

# lab_guest_stop_and_verify HOST NAME: stops NAME on HOST; its image there
# verifies at the highest generation acked on either host, and HOST has
# nothing else left of NAME.
lab_guest_stop_and_verify() {
    lab_guest_stop "$1" "$2"
    run -0 lab_guest_verify "$1" "$2"
    assert_output --partial "$LAB_GUEST_BLOCKS blocks OK"
    lab_host_clean "$1" "$2" --keep-image
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
