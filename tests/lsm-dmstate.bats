#!/usr/bin/env bats
# lsm-dmstate alone: describing a VM on the source, preparing the destination.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
    load helpers/local_pair
    load helpers/hostile
    local_pair_images
}

teardown() {
    lsm-resume receive vm --rollback --run-dir "$DST" 2>/dev/null || true
    cleanup_run
}

describe_vm() {
    lsm-dmstate send vm --run-dir "$SRC" "$@" >"$T/vm.json"
}

@test "lsm-dmstate --help and --version answer" {
    run -0 lsm-dmstate --help
    [[ "$output" == *"send"* && "$output" == *"receive"* ]]
    run -0 lsm-dmstate --version
    [[ "$output" == "lsm-dmstate "* ]]
}

@test "lsm-dmstate with an unknown option is a usage error naming it" {
    run -2 lsm-dmstate send vm --frobnicate
    [[ "$output" == *"--frobnicate"* ]]
}

@test "send for an unknown domain says how a VM must be started" {
    run -2 lsm-dmstate send nosuchvm --run-dir "$SRC"
    [[ "$output" == *"unknown domain 'nosuchvm'"* && "$output" == *"-qmp unix:"* ]]
}

@test "send rejects a domain name that would escape the run directory" {
    run -2 lsm-dmstate send ../etc --run-dir "$SRC"
    [[ "$output" == *"invalid domain name"* ]]
}

@test "send lists writable disks only, with size, format and allocation" {
    qemu-img create -q -f raw "$T/ro.raw" 1M
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}" \
        -drive "file=$T/ro.raw,format=raw,if=none,id=ro,readonly=on" -device virtio-blk-pci,drive=ro \
        -drive if=none,id=cd,media=cdrom -device ide-cd,drive=cd
    describe_vm
    run -0 grep -o '"key":"[a-z]*"' "$T/vm.json"
    [[ "$output" == $'"key":"da"\n"key":"db"' ]]
    grep -q '"file":"'"$SRC"'/img/a.raw","format":"raw","virtual_size":67108864' "$T/vm.json"
    grep -q '"format":"qcow2","virtual_size":33554432' "$T/vm.json"
    grep -q '"running":true' "$T/vm.json"
}

@test "send refuses a disk format lsm cannot copy, naming the disk" {
    qemu-img create -q -f vmdk "$T/c.vmdk" 8M
    blank_vm_start vm "$SRC" -drive "file=$T/c.vmdk,format=vmdk,if=none,id=dc" -device virtio-blk-pci,drive=dc
    run -1 lsm-dmstate send vm --run-dir "$SRC"
    [[ "$output" == *"disk dc"*"format vmdk is not supported"* ]]
}

@test "send marks --shared-disk disks as not to be copied" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    describe_vm --shared-disk "$SRC/img/b.qcow2"
    grep -q '"file":"'"$SRC"'/img/b.qcow2".*"shared":true' "$T/vm.json"
    run -2 lsm-dmstate send vm --run-dir "$SRC" --shared-disk /nonexistent.img
    [[ "$output" == *"no writable disk of this VM uses that file"* ]]
}

@test "receive creates sparse images of the same size and format and an incoming QEMU" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    describe_vm
    run -0 --separate-stderr lsm-dmstate receive --run-dir "$DST" --map "$SRC=$DST" <"$T/vm.json"
    [[ "$output" == *'"type":"prepared"'* ]]
    [[ "$(qemu-img info -U --output=json "$DST/img/a.raw")" == *'"virtual-size": 67108864'* ]]
    [[ "$(qemu-img info -U --output=json "$DST/img/b.qcow2")" == *'"format": "qcow2"'* ]]
    # Sparse: qemu-img allocates at most the first 4 KiB of a raw image.
    (($(stat -c %b "$DST/img/a.raw") <= 8))
    [[ "$(stat -c %a "$DST/img/a.raw")" == 600 ]]
    pgrep -f -- "-name vm .*unix:$DST/qemu/vm.qmp.*-incoming defer" >/dev/null
}

@test "receive refuses an existing target file and leaves it alone" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    describe_vm
    echo precious >"$DST/img/b.qcow2"
    run -1 lsm-dmstate receive --run-dir "$DST" --map "$SRC=$DST" <"$T/vm.json"
    [[ "$output" == *"target file $DST/img/b.qcow2 already exists"*"--reuse"* ]]
    [[ "$(cat "$DST/img/b.qcow2")" == precious ]]
    [[ ! -e "$DST/img/a.raw" ]]
    ! pgrep -f -- "unix:$DST/qemu/vm.qmp" >/dev/null
}

@test "receive refuses a missing target directory" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    describe_vm
    run -1 lsm-dmstate receive --run-dir "$DST" --map "$SRC=$DST" --map "$SRC/img=$DST/nodir" <"$T/vm.json"
    [[ "$output" == *"target directory $DST/nodir does not exist"* ]]
}

@test "receive --dry-run prints the plan and creates nothing" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    describe_vm
    run -0 lsm-dmstate receive --run-dir "$DST" --map "$SRC=$DST" --dry-run <"$T/vm.json"
    [[ "$output" == *"disk da: raw, 64.0 MiB virtual"*"-> $DST/img/a.raw (will be created)"* ]]
    [[ -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" && ! -e "$DST/lsm" ]]
}

@test "receive with garbage on stdin fails with one clear line and creates nothing" {
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" < <(head -c 4096 /dev/urandom)
    [[ "$stderr" == "lsm-dmstate: error: "* ]]
    (($(wc -l <<<"$stderr") == 1))
    [[ -z "$(ls -A "$DST/img")" ]]
}

@test "receive rejects a message from another protocol version" {
    run -1 lsm-dmstate receive --run-dir "$DST" <<<'{"lsm":9,"type":"vm"}'
    [[ "$output" == *"unsupported protocol version 9"* ]]
}

@test "receive rejects a domain name that would escape the run directory" {
    run -2 lsm-dmstate receive --run-dir "$DST" \
        <<<'{"lsm":1,"type":"vm","name":"../x","backend":"qemu","config":{},"disks":[]}'
    [[ "$output" == *"invalid domain name"* ]]
}

@test "receive refuses deeply nested JSON with one line, creating nothing" {
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" < <(deep_json)
    only_line_is "$stderr" "lsm-dmstate: error: message: JSON nested deeper than 128 levels*"
    [[ -z "$output" && -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" ]]
    [[ ! -e "$DST/lsm/vm.state.json" ]]
}

@test "send refuses a QMP reply nested too deep, recording nothing" {
    install -d -m 700 "$SRC/qemu"
    deep_json >"$T/greeting"
    fake_qmp "$SRC/qemu/vm.qmp" "$T/greeting"
    run -1 --separate-stderr lsm-dmstate send vm --run-dir "$SRC"
    only_line_is "$stderr" "lsm-dmstate: error: *QMP socket $SRC/qemu/vm.qmp: JSON nested deeper than 128 levels*"
    [[ -z "$output" && ! -e "$SRC/lsm/vm.source.json" ]]
}

@test "receive refuses a run directory others can write, creating nothing" {
    install -d -m 700 "$DST/lsm"
    chmod 777 "$DST/lsm"
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" \
        <<<'{"lsm":1,"type":"vm","name":"vm","backend":"qemu","config":{"argv":["qemu-system-x86_64"],"qmp":"/x","running":true},"disks":[]}'
    only_line_is "$stderr" "lsm-dmstate: error: run directory $DST/lsm is writable by group or others (mode 0777)*chmod go-w $DST/lsm*"
    [[ -z "$(ls -A "$DST/lsm")" && -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" ]]
}

@test "receive takes a QEMU whose monitor is busy for a live one: refused, its socket kept" {
    install -d -m 700 "$DST/qemu"
    # A listener that never accepts, as a QEMU busy with another monitor client.
    python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(0); time.sleep(300)' \
        "$DST/qemu/vm.qmp" 3>&- &
    cleanup_push kill "$!"
    wait_until 5 test -S "$DST/qemu/vm.qmp"
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" \
        <<<'{"lsm":1,"type":"vm","name":"vm","backend":"qemu","config":{"argv":["qemu-system-x86_64"],"qmp":"/x","running":true},"disks":[]}'
    only_line_is "$stderr" "lsm-dmstate: error: *domain 'vm' already runs on the destination (a QEMU listens on $DST/qemu/vm.qmp)*"
    [[ -S "$DST/qemu/vm.qmp" && ! -e "$DST/lsm/vm.state.json" ]]
}

@test "send refuses a writable removable medium, naming it, and records nothing" {
    qemu-img create -q -f raw "$T/stick.raw" 1M
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}" -device usb-ehci \
        -drive "file=$T/stick.raw,format=raw,if=none,id=stick" -device usb-storage,drive=stick,removable=on
    run -1 --separate-stderr lsm-dmstate send vm --run-dir "$SRC"
    only_line_is "$stderr" "lsm-dmstate: error: *disk stick ($T/stick.raw) is a writable removable medium*eject it*"
    [[ -z "$output" && ! -e "$SRC/lsm/vm.source.json" ]]
}

@test "send -v says which read-only and empty drives it does not copy" {
    qemu-img create -q -f raw "$T/cd.raw" 1M
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}" \
        -drive "file=$T/cd.raw,format=raw,if=none,id=cd,media=cdrom" -device ide-cd,drive=cd \
        -drive if=none,id=empty,media=cdrom -device ide-cd,drive=empty
    run -0 --separate-stderr lsm-dmstate send vm --run-dir "$SRC" --dry-run -v
    [[ "$stderr" == *"disk cd ($T/cd.raw): read-only removable medium, not copied"* ]]
    [[ "$stderr" == *"drive empty: no medium, nothing to copy"* ]]
}

@test "send --dry-run warns of QEMU's lost RAM writes under TCG, with the fix and a RAM size that avoids them" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}" -m 64M
    run -0 --separate-stderr lsm-dmstate send vm --run-dir "$SRC" --dry-run
    only_line_is "$stderr" "lsm-dmstate: warning: QEMU 7.* runs vm without KVM (TCG)*can be lost in a live migration (QEMU commit 03bfc2188f)*QEMU 9.0 or later*-m 65544k*"
    [[ "$output" == *'"memory":67108864'* ]]
    # Not in the real description, which a dry run always comes before.
    run -0 --separate-stderr lsm-dmstate send vm --run-dir "$SRC"
    [[ -z "$stderr" ]]
}

@test "send --dry-run does not warn of a RAM size QEMU syncs page by page" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    run -0 --separate-stderr lsm-dmstate send vm --run-dir "$SRC" --dry-run
    [[ -z "$stderr" ]]
}

@test "receive refuses a disk size no disk has, creating nothing" {
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" \
        < <(vm_message 1 18446744073709551615 4096 "$DST/img")
    only_line_is "$stderr" "lsm-dmstate: error: *vm.disks?0?.virtual_size: 18446744073709551615 bytes is more than any disk lsm copies*"
    [[ -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" && ! -e "$DST/lsm/vm.state.json" ]]
}

@test "receive refuses more disks than lsm migrates, creating nothing" {
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" < <(vm_message 257 1048576 4096 "$DST/img")
    only_line_is "$stderr" "lsm-dmstate: error: *vm.disks: 257 disks, more than the 256 lsm migrates*"
    [[ -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" && ! -e "$DST/lsm/vm.state.json" ]]
}

@test "receive refuses disks whose sizes add up past 64 bits instead of wrapping" {
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" \
        < <(vm_message 256 $((1 << 56)) $((1 << 56)) "$DST/img")
    only_line_is "$stderr" "lsm-dmstate: error: *the disks on $DST/img: *overflows 64 bits*"
    [[ -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" && ! -e "$DST/lsm/vm.state.json" ]]
}

@test "send --config is for Xen domains: for a QEMU VM it is a usage error naming -C" {
    run -2 --separate-stderr lsm-dmstate send vm --run-dir "$SRC" --backend qemu --config "$T/vm.cfg"
    only_line_is "$stderr" "lsm-dmstate: error: -C $T/vm.cfg: a configuration file is for Xen domains (xl migrate -C)*"
}

@test "receive refuses a disk target (Xen's -C) for a QEMU VM, creating nothing" {
    blank_vm_start vm "$SRC" "${DISK_ARGS[@]}"
    describe_vm
    sed -i 's|"shared":false}|"shared":false,"target":"'"$DST"'/img/elsewhere.raw"}|' "$T/vm.json"
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" <"$T/vm.json"
    only_line_is "$stderr" "lsm-dmstate: error: disk da: a target path ($DST/img/elsewhere.raw) is for a Xen domain's -C configuration*"
    [[ -z "$(ls -A "$DST/img")" && ! -e "$DST/qemu" && ! -e "$DST/lsm/vm.state.json" ]]
}
