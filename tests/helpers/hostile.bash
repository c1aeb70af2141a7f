# Hostile input for the receiving tools: JSON nested past any parser's
# stack, and a fake QMP monitor that says what a test wants. Load after
# helpers/common.

# deep_json [DEPTH]: one line of DEPTH (default 500000) unclosed '[',
# under the 1 MiB line limit: a recursive parser overflows its stack.
deep_json() {
    head -c "${1:-500000}" /dev/zero | tr '\0' '['
    echo
}

# fake_qmp SOCKET FILE: a monitor on SOCKET that greets every client with
# the contents of FILE, then hangs up. Registers its kill.
fake_qmp() {
    local socket="$1" file="$2"
    socat "UNIX-LISTEN:$socket,fork" "SYSTEM:cat $(printf '%q' "$file")" 3>&- &
    cleanup_push kill "$!"
    wait_until 5 test -S "$socket"
}

# only_line_is STDERR PATTERN: STDERR is one line, matching the glob PATTERN.
only_line_is() {
    # shellcheck disable=SC2053 # $2 is a glob, by design
    (($(wc -l <<<"$1") == 1)) && [[ "$1" == $2 ]]
}

# vm_message COUNT VIRTUAL ALLOCATED DIR: a "vm" message of COUNT raw disks
# of those sizes, with images DIR/dN.raw. Built as text: jq would round
# sizes past 2^53.
vm_message() {
    local count="$1" virtual="$2" allocated="$3" dir="$4" i disks=""
    for ((i = 0; i < count; i++)); do
        disks+="${disks:+,}{\"key\":\"d$i\",\"node\":\"n$i\",\"file\":\"$dir/d$i.raw\",\"format\":\"raw\","
        disks+="\"virtual_size\":$virtual,\"allocated\":$allocated,\"shared\":false}"
    done
    printf '{"lsm":1,"type":"vm","name":"vm","backend":"qemu","config":{"argv":["qemu-system-x86_64"],"qmp":"/x","running":true},"disks":[%s]}\n' "$disks"
}
