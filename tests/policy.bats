#!/usr/bin/env bats
# The destination's host policy (docs/policy.md): hostile "vm" messages
# piped into lsm-dmstate receive are refused with one line naming what
# would allow them, and nothing is created, started or deleted.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    make_scratch T
    DST="$T/dst" IMG="$T/img"
    mkdir -p "$DST" "$IMG"
    echo precious >"$T/precious"
    test_policy "$T/policy.conf" "$IMG"
}

teardown() { cleanup_run; }

# vm_message ARGV-JSON [DISKS-JSON]: a "vm" message for VM "vm".
vm_message() {
    printf '{"lsm":1,"type":"vm","name":"vm","backend":"qemu","config":{"argv":%s,"qmp":"/src/qemu/vm.qmp","running":true},"disks":%s}\n' \
        "$1" "${2:-[]}"
}

# A raw disk of 1 MiB whose target is PATH.
disk() {
    printf '[{"key":"da","node":"n","file":"%s","format":"raw","virtual_size":1048576,"allocated":0,"shared":false}]' "$1"
}

QEMU_OK='["qemu-system-x86_64","-nodefaults","-m","64"]'

# receive_refused ARGV-JSON DISKS-JSON TEXT...: lsm-dmstate receive exits 1
# with one line on stderr holding every TEXT, and leaves the destination as
# it was: no image, no QEMU, no state, only the VM's lock.
receive_refused() {
    local argv="$1" disks="$2" text
    shift 2
    local before
    before="$(find "$T" ! -path "$DST/*" -printf '%p %y %s\n' | sort)"
    run -1 --separate-stderr lsm-dmstate receive --run-dir "$DST" < <(vm_message "$argv" "$disks")
    [[ -z "$output" ]]
    [[ "$stderr" == "lsm-dmstate: error: "* ]]
    (($(wc -l <<<"$stderr") == 1))
    for text in "$@"; do
        [[ "$stderr" == *"$text"* ]] || { echo "missing '$text' in: $stderr" >&2; return 1; }
    done
    [[ "$(find "$T" ! -path "$DST/*" -printf '%p %y %s\n' | sort)" == "$before" ]]
    [[ -z "$(find "$DST" ! -type d ! -name '*.lock')" && ! -e "$DST/qemu" ]]
    run ! pgrep -f -- "$DST"
    [[ "$(cat "$T/precious")" == precious ]]
}

@test "the test's own policy allows a plain QEMU and an image in its root (dry run)" {
    run -0 lsm-dmstate receive --run-dir "$DST" --dry-run < <(vm_message "$QEMU_OK" "$(disk "$IMG/a.raw")")
    [[ "$output" == *"-> $IMG/a.raw (will be created)"* ]]
    [[ "$output" == *"destination QEMU: /usr/bin/qemu-system-x86_64 -nodefaults -m 64 -qmp unix:$DST/qemu/vm.qmp"* ]]
}

@test "argv[0] that is not an allowed emulator is refused and never run" {
    receive_refused "[\"sh\",\"-c\",\"touch $T/pwned\"]" '[]' \
        "QEMU binary 'sh' is not an allowed emulator (emulators in the host policy, $T/policy.conf)"
    [[ ! -e "$T/pwned" ]]
    receive_refused '["/tmp/qemu-system-x86_64","-m","64"]' '[]' "(emulators in the host policy"
}

@test "options that start programs are refused, naming the policy key" {
    receive_refused '["qemu-system-x86_64","-netdev","tap,id=n,script=/tmp/x,downscript=no"]' '[]' \
        "QEMU option -netdev: script=/tmp/x would start a program" "(helpers in the host policy"
    receive_refused '["qemu-system-x86_64","-netdev","tap,id=n,downscript=/tmp/x"]' '[]' "(helpers in"
    receive_refused '["qemu-system-x86_64","-netdev","bridge,id=n,helper=/tmp/x"]' '[]' "(helpers in"
    receive_refused '["qemu-system-x86_64","-netdev","user,id=n,guestfwd=tcp:10.0.2.1:1-cmd:sh"]' '[]' \
        "runs a command"
    receive_refused '["qemu-system-x86_64","-plugin","/tmp/x.so"]' '[]' \
        "QEMU option -plugin is not allowed here (qemu_options in the host policy"
    receive_refused '["qemu-system-x86_64","-add-fd","fd=3,set=1"]' '[]' "-add-fd" "(qemu_options in"
    receive_refused '["qemu-system-x86_64","-runas","nobody"]' '[]' "-runas" "(qemu_options in"
    receive_refused '["qemu-system-x86_64","-chroot","/tmp"]' '[]' "-chroot" "(qemu_options in"
}

@test "options that name host files outside the allowed places are refused" {
    receive_refused '["qemu-system-x86_64","-chardev","file,id=c,path=/etc/cron.d/x"]' '[]' \
        "QEMU option -chardev: path=/etc/cron.d/x is a host file outside the run directory $DST" \
        "(file_dirs in the host policy"
    receive_refused '["qemu-system-x86_64","-chardev","socket,id=c,path=/tmp/s,server=on"]' '[]' "(file_dirs in"
    receive_refused '["qemu-system-x86_64","-object","memory-backend-file,id=m,size=64M,mem-path=/etc/x"]' '[]' \
        "mem-path=/etc/x" "(file_dirs in"
    receive_refused '["qemu-system-x86_64","-serial","file:/etc/x"]' '[]' "(file_dirs in"
    receive_refused '["qemu-system-x86_64","-monitor","unix:/tmp/m,server=on,wait=off"]' '[]' "(file_dirs in"
    receive_refused '["qemu-system-x86_64","-qmp","unix:/tmp/q,server=on,wait=off"]' '[]' "(file_dirs in"
    receive_refused '["qemu-system-x86_64","-daemonize","-pidfile","/etc/x.pid"]' '[]' "-pidfile" "(file_dirs in"
    receive_refused '["qemu-system-x86_64","-drive","file=/etc/shadow,format=raw,if=virtio"]' '[]' \
        "file=/etc/shadow is outside the image roots (image_roots in the host policy"
    receive_refused '["qemu-system-x86_64","-blockdev","driver=file,node-name=f,filename=/dev/sda"]' '[]' \
        "(image_roots in"
    receive_refused '["qemu-system-x86_64","-kernel","/etc/shadow"]' '[]' "(boot_dirs in"
    receive_refused '["qemu-system-x86_64","-initrd","/root/x"]' '[]' "(boot_dirs in"
    receive_refused '["qemu-system-x86_64","-bios","/tmp/x"]' '[]' "(boot_dirs in"
    receive_refused '["qemu-system-x86_64","-L","/tmp"]' '[]' "(boot_dirs in"
}

@test "an image target outside the image roots is refused" {
    receive_refused "$QEMU_OK" "$(disk "$T/a.raw")" \
        "disk da: image path $T/a.raw is outside the image roots (image_roots in the host policy"
    receive_refused "$QEMU_OK" "$(disk a.raw)" "disk da: image path 'a.raw' is not absolute"
}

@test "a target with '..' or a symbolic link on the way is refused" {
    receive_refused "$QEMU_OK" "$(disk "$IMG/../a.raw")" "disk da: image path '$IMG/../a.raw'" "'..'"
    ln -s "$T" "$IMG/up"
    receive_refused "$QEMU_OK" "$(disk "$IMG/up/a.raw")" \
        "disk da: image path $IMG/up/a.raw: its directory is really $T" "(image_roots in"
    [[ -L "$IMG/up" ]]
}

@test "a symbolic link planted at the target is refused, with --reuse too, and left alone" {
    ln -s "$T/precious" "$IMG/a.raw"
    receive_refused "$QEMU_OK" "$(disk "$IMG/a.raw")" "disk da: image path $IMG/a.raw is a symbolic link"
    run -1 lsm-dmstate receive --run-dir "$DST" --reuse < <(vm_message "$QEMU_OK" "$(disk "$IMG/a.raw")")
    [[ "$output" == *"is a symbolic link"* ]]
    [[ -L "$IMG/a.raw" && "$(cat "$T/precious")" == precious ]]
}

@test "--policy names the policy file; a missing one is an error" {
    echo "image_roots = $T" >"$T/wide.conf"
    run -0 lsm-dmstate receive --run-dir "$DST" --dry-run --policy "$T/wide.conf" \
        < <(vm_message "$QEMU_OK" "$(disk "$T/a.raw")")
    run -1 lsm-dmstate receive --run-dir "$DST" --policy "$T/none.conf" < <(vm_message "$QEMU_OK")
    [[ "$output" == *"reading the host policy $T/none.conf"* ]]
    echo "image_root = $T" >"$T/typo.conf"
    run -1 lsm-dmstate receive --run-dir "$DST" --policy "$T/typo.conf" < <(vm_message "$QEMU_OK")
    [[ "$output" == *"$T/typo.conf:1: unknown key 'image_root'"* ]]
}

@test "the example policy file in the repository is the built-in defaults" {
    run -1 lsm-dmstate receive --run-dir "$DST" --policy "$LSM_ROOT/etc/lsm/policy.conf" \
        < <(vm_message "$QEMU_OK" "$(disk "$IMG/a.raw")")
    [[ "$output" == *"outside the image roots (image_roots in the host policy, $LSM_ROOT/etc/lsm/policy.conf)"* ]]
    run -0 lsm-dmstate receive --run-dir "$DST" --dry-run --policy "$LSM_ROOT/etc/lsm/policy.conf" \
        < <(vm_message '["qemu-system-x86_64","-nodefaults","-device","virtio-blk-pci,drive=d"]')
}
