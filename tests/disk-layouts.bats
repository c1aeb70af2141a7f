#!/usr/bin/env bats
# Disks however QEMU was told about them: -drive with if=ide/virtio/none,
# AHCI, -blockdev node graphs. Found through QMP, copied, verified.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
    load helpers/local_pair
    make_scratch T
    SRC="$T/src" DST="$T/dst"
    mkdir -p "$SRC/img" "$DST/img"
    test_policy "$T/policy.conf" "$T"
    local f pattern=0x41
    for f in ide.raw virtio.raw sata.raw; do
        qemu-img create -q -f raw "$SRC/img/$f" 16M
        qemu-io -f raw -c "write -P $pattern 2M 1M" "$SRC/img/$f" >/dev/null
        pattern=$((pattern + 1))
    done
    qemu-img create -q -f qcow2 "$SRC/img/node.qcow2" 16M
    qemu-io -f qcow2 -c 'write -P 0x77 4M 1M' "$SRC/img/node.qcow2" >/dev/null
    cleanup_push pkill -KILL -f -- "unix:$DST/qemu/vm.qmp"
    cleanup_push lsm-resume receive vm --rollback --run-dir "$DST"
}

teardown() { cleanup_run; }

@test "IDE, if=virtio, AHCI and -blockdev disks are all found and moved" {
    local i="$SRC/img"
    blank_vm_start vm "$SRC" \
        -drive "file=$i/ide.raw,format=raw,if=ide" \
        -drive "file=$i/virtio.raw,format=raw,if=virtio" \
        -blockdev "driver=file,filename=$i/node.qcow2,node-name=nf" \
        -blockdev driver=qcow2,file=nf,node-name=nq -device virtio-blk-pci,drive=nq,id=vdq \
        -device ahci,id=ahci -drive "file=$i/sata.raw,format=raw,if=none,id=sata0" \
        -device ide-hd,drive=sata0,bus=ahci.0
    local_prepare
    local_mirror
    lsm-ramstream send vm --run-dir "$SRC" | lsm-ramstream receive vm --run-dir "$DST" >/dev/null
    lsm-resume receive vm --run-dir "$DST" >/dev/null
    lsm-resume send vm --quit --run-dir "$SRC"
    for f in ide.raw virtio.raw sata.raw; do
        qemu-img compare -U -f raw -F raw "$SRC/img/$f" "$DST/img/$f"
    done
    qemu-img compare -U "$SRC/img/node.qcow2" "$DST/img/node.qcow2"
    run -0 vm_running vm "$DST"
}

@test "a relative image name is refused: a daemonized QEMU no longer knows its origin" {
    (cd "$SRC/img" && blank_vm_start vm "$SRC" -drive file=ide.raw,format=raw,if=virtio)
    cleanup_push pkill -KILL -f -- "unix:$SRC/qemu/vm.qmp"
    run -1 lsm-dmstate send vm --run-dir "$SRC"
    [[ "$output" == *"disk virtio0: image name 'ide.raw' is relative; start QEMU with absolute image paths"* ]]
}

@test "a disk on a network protocol is refused, naming it" {
    qemu-img create -q -f raw "$T/exported.raw" 8M
    qemu-nbd -k "$T/nbd.sock" -f raw --fork --persistent "$T/exported.raw"
    cleanup_push pkill -f -- "qemu-nbd -k $T/nbd.sock"
    blank_vm_start vm "$SRC" -drive "file=nbd+unix:///?socket=$T/nbd.sock,format=raw,if=virtio"
    run -1 lsm-dmstate send vm --run-dir "$SRC"
    [[ "$output" == *"disk virtio0: "*"is not a local file"*"--shared-disk"* ]]
}
