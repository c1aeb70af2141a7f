#!/usr/bin/env bats
# The test guest fixture itself: the guest boots under TCG and acks
# generations, its images verify, and the verifier catches the damage a
# broken migration would cause. The guest boots once for the whole file.

bats_require_minimum_version 1.5.0

BLOCKS=64   # small region: quick generations, quick verification

setup_file() {
    load helpers/common
    load helpers/guest
    require_cmd qemu-system-x86_64 qemu-img
    guest_require_built

    make_scratch GUEST_DIR
    export GUEST_DIR LSM_GUEST_BLOCKS="$BLOCKS"
    mkdir "$GUEST_DIR/disks"
    qemu-img create -q -f raw "$GUEST_DIR/disks/d0.raw" 16M
    qemu-img create -q -f qcow2 "$GUEST_DIR/disks/d1.qcow2" 16M

    local started="$EPOCHREALTIME"
    guest_start g1 "$GUEST_DIR" 256 "$GUEST_DIR/disks/d0.raw" "$GUEST_DIR/disks/d1.qcow2"
    export GUEST_ACK_LOG
    GUEST_ACK_LOG="$(guest_ack_log g1 "$GUEST_DIR")"
    guest_wait_acks "$GUEST_ACK_LOG" disk0 1 90
    export GUEST_FIRST_ACK_SECS
    GUEST_FIRST_ACK_SECS="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"

    # An early copy of the raw disk's region, to play back stale blocks
    # later. Reading a live disk can catch a block mid-write; retry then.
    local early_acked
    early_acked="$(guest_acked "$GUEST_ACK_LOG" disk0)"
    export GUEST_EARLY="$GUEST_DIR/early.raw"
    wait_until 20 copy_consistent "$GUEST_DIR/disks/d0.raw" "$GUEST_EARLY" "$early_acked"

    guest_wait_acks "$GUEST_ACK_LOG" disk0 $((early_acked + 3)) 60
    guest_wait_acks "$GUEST_ACK_LOG" disk1 $((early_acked + 3)) 60
    guest_stop g1 "$GUEST_DIR"
    export GUEST_ACKED0 GUEST_ACKED1
    GUEST_ACKED0="$(guest_acked "$GUEST_ACK_LOG" disk0)"
    GUEST_ACKED1="$(guest_acked "$GUEST_ACK_LOG" disk1)"
}

teardown_file() {
    cleanup_run
}

setup() {
    load helpers/common
    load helpers/guest
    bats_load_library bats-support
    bats_load_library bats-assert
    make_scratch WORK
}

teardown() {
    cleanup_run
}

# copy_consistent LIVE COPY ACKED: copies the region of a live raw disk and
# succeeds only if the copy verifies (no block caught mid-write).
copy_consistent() {
    dd if="$1" of="$2" bs=4096 count="$BLOCKS" status=none &&
        "$LSM_GUEST_VERIFY" --blocks "$BLOCKS" --acked "$3" "$2" >/dev/null 2>&1
}

# Overwrites the byte at OFFSET of FILE with its complement.
flip_byte() {
    local file="$1" offset="$2" byte
    byte="$(od -An -tu1 -j "$offset" -N 1 "$file" | tr -d ' ')"
    printf '%b' "$(printf '\\0%03o' $((byte ^ 0xff)))" |
        dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

# copy_range SRC DST OFFSET LENGTH: puts SRC's bytes at the same place in DST.
copy_range() {
    dd if="$1" of="$2" bs=512 skip=$(($3 / 512)) seek=$(($3 / 512)) \
        count=$(($4 / 512)) conv=notrunc status=none
}

@test "guest boots under TCG and acks generations on a raw and a qcow2 disk" {
    echo "# first ack $GUEST_FIRST_ACK_SECS s after QEMU start; acked disk0=$GUEST_ACKED0 disk1=$GUEST_ACKED1" >&3
    ((GUEST_ACKED0 >= 3))
    ((GUEST_ACKED1 >= 3))
    # The writer names the disks by their virtio serial.
    assert_equal "$(guest_acked "$GUEST_ACK_LOG" vda)" 0
    # guest_stop waited for QEMU to exit, which removes its pidfile.
    [[ ! -e "$(guest_pidfile g1 "$GUEST_DIR")" ]]
}

@test "images of the stopped guest verify at the acked generation" {
    run -0 guest_verify "$GUEST_DIR/disks/d0.raw" disk0 "$GUEST_ACKED0"
    assert_output --partial "$BLOCKS blocks OK"
    run -0 guest_verify "$GUEST_DIR/disks/d1.qcow2" disk1 "$GUEST_ACKED1"
    assert_output --partial "$BLOCKS blocks OK"
}

@test "guest_acked takes the highest generation across logs" {
    printf 'lsm-ack disk0 4\nlsm-ack disk1 9\n' >"$WORK/src.log"
    printf 'lsm-ack disk0 7\nlsm-ack disk0 12\nlsm-ack disk0 1' >"$WORK/dst.log"
    assert_equal "$(guest_acked "$WORK/src.log" "$WORK/dst.log" disk0)" 12
    assert_equal "$(guest_acked "$WORK/src.log" "$WORK/missing.log" disk1)" 9
    assert_equal "$(guest_acked "$WORK/src.log" disk2)" 0
}

@test "guest_acked reads only whole ack lines of a timestamped console log" {
    # As xenconsoled logs a Xen guest's console: kernel messages, CRs,
    # timestamps, and an ack cut short by a kernel message.
    printf '%s\r\n' '[2025-01-02 03:04:05.678] [    1.234] Linux version 6.1' \
        '[2025-01-02 03:04:06.001] lsm-ack xvda 5' \
        '[2025-01-02 03:04:06.002] lsm-ack xvda 9[    2.000] xen: suspend' \
        '[2025-01-02 03:04:06.003] 7' \
        'lsm-ack xvda 6' '[2025-01-02 03:04:07.000] lsm-ack xvdb 8' >"$WORK/console.log"
    assert_equal "$(guest_acked "$WORK/console.log" xvda)" 6
    assert_equal "$(guest_acked "$WORK/console.log" xvdb)" 8
}

# The setup of a Xen HVM guest without PV drivers, under plain QEMU: one
# emulated IDE disk (sda, no serial) and acks on the console (ttyS0).
@test "the guest writes an IDE disk as sda and acks on its console with lsm.ack=" {
    qemu-img create -q -f raw "$WORK/ide.raw" 16M
    local console="$WORK/console.log" pidfile="$WORK/qemu.pid"
    qemu-system-x86_64 -accel tcg -m 256 -smp 1 -nodefaults -display none -no-reboot \
        -kernel "$LSM_GUEST_KERNEL" -initrd "$LSM_GUEST_INITRD" \
        -append "console=ttyS0 panic=-1 lsm.blocks=$BLOCKS lsm.ack=/dev/ttyS0" \
        -serial "file:$console" -drive "file=$WORK/ide.raw,format=raw,if=ide,cache=none" \
        -daemonize -pidfile "$pidfile" 3>&-
    cleanup_push _guest_kill_pid "$(cat "$pidfile")" 10
    guest_wait_acks "$console" sda 3 90
    _guest_kill_pid "$(cat "$pidfile")" 30
    grep -q "Linux version" "$console"
    run -0 guest_verify "$WORK/ide.raw" sda "$(guest_acked "$console" sda)"
    assert_output --partial "$BLOCKS blocks OK"
}

@test "a flipped byte fails the checksum of its block" {
    cp "$GUEST_DIR/disks/d0.raw" "$WORK/img.raw"
    flip_byte "$WORK/img.raw" $((17 * 4096 + 1000))
    run -1 guest_verify "$WORK/img.raw" disk0 "$GUEST_ACKED0"
    assert_output --partial "block 17: bad checksum"
    assert_equal "${#lines[@]}" 1
}

@test "a block played back from an early generation is older than acked" {
    cp "$GUEST_DIR/disks/d0.raw" "$WORK/img.raw"
    copy_range "$GUEST_EARLY" "$WORK/img.raw" $((5 * 4096)) 4096
    run -1 guest_verify "$WORK/img.raw" disk0 "$GUEST_ACKED0"
    assert_output --regexp "block 5: generation [0-9]+ is older than acknowledged generation $GUEST_ACKED0"
}

@test "a completed write that went missing is caught even when acked" {
    # Block 0 stale while block 1 is new: the writer never leaves that.
    cp "$GUEST_DIR/disks/d0.raw" "$WORK/img.raw"
    copy_range "$GUEST_EARLY" "$WORK/img.raw" 0 4096
    run -1 guest_verify "$WORK/img.raw" disk0 0
    assert_output --partial "block 0: generation"
    assert_output --partial "a completed write was lost"
}

@test "a torn block fails whichever half is stale" {
    cp "$GUEST_DIR/disks/d0.raw" "$WORK/a.raw"
    copy_range "$GUEST_EARLY" "$WORK/a.raw" $((9 * 4096)) 2048
    run -1 guest_verify "$WORK/a.raw" disk0 0
    assert_output --partial "block 9: torn write: sectors 4-7"

    cp "$GUEST_DIR/disks/d0.raw" "$WORK/b.raw"
    copy_range "$GUEST_EARLY" "$WORK/b.raw" $((9 * 4096 + 2048)) 2048
    run -1 guest_verify "$WORK/b.raw" disk0 0
    assert_output --partial "block 9: torn write: sectors 4-7"
}

@test "the verifier rejects another disk's blocks" {
    run -1 guest_verify "$GUEST_DIR/disks/d0.raw" disk1 0
    assert_output --partial "block 0: belongs to disk 'disk0', not 'disk1'"
}

@test "verifier usage errors exit 2" {
    local img="$GUEST_DIR/disks/d0.raw"
    run -2 "$LSM_GUEST_VERIFY"
    run -2 "$LSM_GUEST_VERIFY" --acked 1
    run -2 "$LSM_GUEST_VERIFY" --blocks 8 "$img"
    run -2 "$LSM_GUEST_VERIFY" --acked x "$img"
    run -2 "$LSM_GUEST_VERIFY" --blocks 0 --acked 1 "$img"
    run -2 "$LSM_GUEST_VERIFY" --acked 1 --frobnicate "$img"
    run -2 "$LSM_GUEST_VERIFY" --acked 1 "$img" "$img"
    run -2 "$LSM_GUEST_VERIFY" --acked 1 "$WORK/missing.raw"
    assert_output --partial "missing.raw"
}

@test "a guest booted again on its disks continues past the acked generation" {
    cp "$GUEST_DIR/disks/d0.raw" "$WORK/d0.raw"
    guest_start g2 "$WORK" 256 "$WORK/d0.raw:raw"
    local log
    log="$(guest_ack_log g2 "$WORK")"
    guest_wait_acks "$log" disk0 $((GUEST_ACKED0 + 1)) 90
    guest_stop g2 "$WORK"
    # Its first ack already continues after the old disk's generation.
    local first
    read -r _ _ first <"$log"
    ((first > GUEST_ACKED0))
    run -0 guest_verify "$WORK/d0.raw" disk0 "$(guest_acked "$log" disk0)"
}
