#!/usr/bin/env bats
# Smoke test of the nested Xen lab (lab.bash): two real Xen 4.17 hosts boot,
# their dom0s reach each other with ssh over the lab link, the test guest
# runs as a PV and as an HVM domU (lab_guest_*), and stock `xl migrate`
# moves a running PV guest from host a to host b.
# Slow: about 4 minutes, plus the lab's boot (setup_suite.bash) and about
# 2 minutes the first time for the image (lab_build is cached).
# LSM_SKIP_LAB=1 skips the file.

bats_require_minimum_version 1.5.0

setup_file() {
    load lab
    lab_setup_file
}

setup() {
    load lab
    lab_setup_test
}

teardown() { lab_teardown_test; }

@test "both hosts run Xen 4.17 and xl info works" {
    local h
    for h in a b; do
        run -0 lab_run_on -t 120 "$h" xl info
        assert_line --regexp '^xen_version +: 4\.17\.'
        assert_line --regexp '^virt_caps +: .*hvm.*hap'
        # A PV guest's live migration needs log-dirty mode, which needs
        # shadow paging (build-dom0.sh picks a hypervisor that has it).
        assert_line --regexp '^virt_caps +: .*shadow'
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

@test "a PV guest on the qdisk backend acks on host a; its image verifies once stopped" {
    GUEST="lab-pv"
    lab_guest_time_first_ack a "$GUEST" pv 120
    lab_guest_wait_acks a "$GUEST" 3 60
    # Its disk is in the device model, where lsm finds it through QMP.
    lab_assert_query_block a "$GUEST" '"node-name": "xvda-raw"' '"file": "/var/lib/xenlab/lab-pv.raw"'
    lab_guest_stop_and_verify a "$GUEST"
}

@test "an HVM guest with an emulated IDE disk acks on host a; its image verifies once stopped" {
    GUEST="lab-hvm"
    lab_guest_time_first_ack a "$GUEST" hvm 300
    lab_guest_wait_acks a "$GUEST" 3 60
    lab_assert_query_block a "$GUEST" '"device": "ide0-hd0"' '"file": "/var/lib/xenlab/lab-hvm.raw"'
    lab_guest_stop_and_verify a "$GUEST"
}

@test "stock xl migrate moves a running PV guest from host a to host b" {
    GUEST="lab-mig"
    lab_guest_create a "$GUEST" pv
    # xl migrate copies no disk: b needs one at the same path.
    run -0 lab_run_on -t 60 b truncate -s "${LAB_GUEST_DISK_MB}M" "/var/lib/xenlab/$GUEST.raw"
    lab_guest_wait_acks a "$GUEST" 3 120

    lab_ack_watch "$GUEST"
    local t0=$EPOCHREALTIME longest median
    run -0 lab_run_on -t 300 a xl migrate "$GUEST" "$LAB_B_ADDR"
    echo "# xenlab: xl migrate of a $LAB_GUEST_MEM MB PV guest a -> b took $(lab_seconds_since "$t0") s" >&3
    run -0 lab_run_on -t 60 b xl list "$GUEST"
    run -1 lab_run_on -t 60 a xl list "$GUEST"
    # Still running after the move: it keeps acking on b.
    lab_guest_wait_acks b "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 60
    read -r longest median < <(lab_ack_gaps "$GUEST")
    echo "# xenlab: xl migrate, pv guest: longest gap between acks ${longest} s (a write takes ${median} s)" >&3
}
