#!/usr/bin/env bats
# Smoke test of the nested Xen lab (lab.bash): two real Xen 4.17 hosts boot,
# their dom0s reach each other with ssh over the lab link, and stock
# `xl migrate` moves a running guest from host a to host b.
# Slow: about 4 minutes, plus about 2.5 minutes the first time for the image
# (lab_build is cached). LSM_SKIP_LAB=1 skips the file.

bats_require_minimum_version 1.5.0

setup_file() {
    [[ "${LSM_SKIP_LAB:-}" != 1 ]] || skip "LSM_SKIP_LAB=1"
    load ../helpers/common
    load ../helpers/guest
    load lab
    guest_require_built
    local t=$SECONDS
    lab_build
    echo "# xenlab: dom0 image ready after $((SECONDS - t)) s" >&3
    lab_boot
    echo "# xenlab: both hosts LAB-READY $LAB_BOOT_SECONDS s after QEMU start" >&3
    cp "$LSM_GUEST_KERNEL" "$LSM_GUEST_INITRD" "$LAB_SHARE/guest/"
}

teardown_file() {
    cleanup_run
    lab_leftovers
}

setup() {
    load ../helpers/common
    load ../helpers/guest
    load lab
    bats_load_library bats-support
    bats_load_library bats-assert
}

# write_guest_cfg NAME TYPE: the test guest (busybox, lsm-guest-writer) as a
# Xen domU with a blank disk that must exist at the same path on both hosts.
# 96 MB: with 64 the Debian kernel does not fit a PV domain's boot mapping.
write_guest_cfg() {
    cat >"$LAB_SHARE/guest/$1.cfg" <<EOF
name = "$1"
type = "$2"
kernel = "/lab/guest/vmlinuz"
ramdisk = "/lab/guest/initramfs.cpio.gz"
extra = "console=hvc0 panic=-1"
memory = 96
vcpus = 1
vif = []
disk = [ "/var/lib/xenlab/$1.raw,raw,xvda,w" ]
# Under TCG Xen cannot emulate RDTSCP for HVM-type guests (PVH included).
tsc_mode = "native"
on_crash = "preserve"
EOF
}

# guest_log_grows HOST NAME: the console log of NAME on HOST (xenconsoled
# names it when it attaches: after a migration, NAME--incoming) appears and
# grows within 30 s.
guest_log_grows() {
    local dir="$LAB_SHARE/state/$1/console" log size
    wait_until 30 _newest_log "$dir" "$2" >/dev/null || { echo "no console log of $2 in $dir" >&2; return 1; }
    log="$(_newest_log "$dir" "$2")"
    size="$(stat -c %s "$log")"
    wait_until 30 _bigger "$log" "$size" || { echo "$log stays at $size bytes" >&2; return 1; }
}

_newest_log() {
    local f
    f="$(ls -t "$1/guest-$2"*.log 2>/dev/null | head -n 1)"
    [[ -n "$f" ]] && echo "$f"
}

_bigger() { (($(stat -c %s "$1") > $2)); }

@test "both hosts run Xen 4.17 and xl info works" {
    local h
    for h in a b; do
        run -0 lab_run_on -t 120 "$h" xl info
        assert_line --regexp '^xen_version +: 4\.17\.'
        assert_line --regexp '^virt_caps +: .*hvm.*hap'
        run -0 lab_run_on -t 60 "$h" hostname
        assert_output "lab-$h"
    done
}

@test "host a reaches host b with ssh over the lab link, /lab/bin first in PATH" {
    run -0 lab_run_on -t 60 a ip route get "$LAB_B_ADDR"
    assert_output --partial "dev lab0"
    # One quoted word for a's shell, so b's shell expands the variables.
    # shellcheck disable=SC2016 # expanded on b
    run -0 lab_run_on -t 120 a ssh "$LAB_B_ADDR" \
        "$(printf %q 'hostname; echo "$PATH"; echo "$SSH_CONNECTION"')"
    assert_line -n 0 lab-b
    assert_line -n 1 --regexp '^/lab/bin:'
    assert_line -n 2 --regexp "^$LAB_A_ADDR [0-9]+ $LAB_B_ADDR 22\$"
    run -0 lab_run_on -t 120 a ssh lab-b true
}

@test "a PV guest boots on host a" {
    write_guest_cfg lab-pv pv
    run -0 lab_run_on -t 60 a truncate -s 16M /var/lib/xenlab/lab-pv.raw
    run -0 lab_run_on -t 120 a xl create /lab/guest/lab-pv.cfg
    wait_until 90 grep -q "lsm-init: starting lsm-guest-writer" \
        "$LAB_SHARE/state/a/console/guest-lab-pv.log"
    run -0 lab_run_on -t 60 a xl destroy lab-pv
}

# PVH, not PV: Debian's Xen 4.17.7 hypervisor is built without shadow
# paging, which the log-dirty mode of a PV guest's live migration needs
# ("Failed to enable logdirty: 95"). PVH uses HAP, like HVM.
@test "stock xl migrate moves a running PVH guest from host a to host b" {
    write_guest_cfg lab-pvh pvh
    local h
    for h in a b; do
        run -0 lab_run_on -t 60 "$h" truncate -s 16M /var/lib/xenlab/lab-pvh.raw
    done
    run -0 lab_run_on -t 120 a xl create /lab/guest/lab-pvh.cfg
    wait_until 90 grep -q "lsm-init: starting lsm-guest-writer" \
        "$LAB_SHARE/state/a/console/guest-lab-pvh.log"

    local t=$SECONDS
    run -0 lab_run_on -t 300 a xl migrate lab-pvh "$LAB_B_ADDR"
    echo "# xenlab: xl migrate of a 96 MB PVH guest a -> b took $((SECONDS - t)) s" >&3
    run -0 lab_run_on -t 60 b xl list lab-pvh
    run -1 lab_run_on -t 60 a xl list lab-pvh
    # Still running after the move: its writer keeps printing on b.
    guest_log_grows b lab-pvh
}
