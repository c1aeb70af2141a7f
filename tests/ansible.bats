#!/usr/bin/env bats
# ansible/evacuate.yml: writing test guests leave the source host through
# the playbook, its lsm_migrate module and real lsm migrations over ssh.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/hosts
    load helpers/guest
    load helpers/blank_vm
    load helpers/migrate
    require_cmd ansible-playbook
    export LSM_GUEST_BLOCKS=64
    # The modules and filters are imported from the checkout: no
    # __pycache__ left in it.
    export PYTHONDONTWRITEBYTECODE=1
    declare -gA SRC_PIDS
}

teardown() { cleanup_run; }

# No host answers there: a target the placement must leave out.
UNREACHABLE=10.231.0.9

# The Python that runs Ansible, which can import its modules (Debian's,
# not one first in PATH).
ansible_python() {
    sed -n '1s/^#! *//p' "$(command -v ansible-playbook)"
}

# evacuate [ANSIBLE-PLAYBOOK-OPTION...]: runs the playbook on the source
# host, which is the controller (localhost, connection local), to empty it
# towards the unreachable target and the destination. The JSON report goes
# to $LSM_T/report.json.
evacuate() {
    echo "localhost ansible_connection=local ansible_python_interpreter=$(ansible_python)" \
        >"$LSM_T/inventory"
    jq -n --arg ssh "$LSM_SSH" --arg run "$LSM_SRC_RUN" --arg images "$LSM_SRC_IMAGES" \
        --arg report "$LSM_T/report.json" --arg dst "$LSM_DST_ADDR" --arg off "$UNREACHABLE" \
        '{evacuate: "localhost", targets: [$off, $dst], concurrency: 2, lsm_ssh: $ssh,
          lsm_run_dir: $run, lsm_image_dir: $images, evacuation_report: $report}' \
        >"$LSM_T/vars.json"
    on_src env TMPDIR="$LSM_T" ANSIBLE_LOCAL_TEMP="$LSM_T/ansible" \
        ANSIBLE_REMOTE_TEMP="$LSM_T/ansible" ANSIBLE_NOCOLOR=1 \
        ansible-playbook -i "$LSM_T/inventory" "$LSM_ROOT/ansible/evacuate.yml" \
        -e "@$LSM_T/vars.json" "$@"
}

# report JQ-FILTER: the filter applied to the playbook's JSON report.
report() {
    jq -r "$1" "$LSM_T/report.json"
}

# guests NAME...: boots a writing guest with a 32 MiB raw disk for each NAME
# on the source; SRC_PIDS[NAME] is its QEMU.
guests() {
    local name
    for name in "$@"; do
        e2e_guest "$name" 128 raw:32M
        SRC_PIDS[$name]="$E2E_SRC_PID"
    done
}

# The most migrations the report shows running at the same moment.
# shellcheck disable=SC2016 # jq's variables
most_at_once() {
    report '[.vms[] | select(.start) | ([.start, 1], [.end, -1])] | sort
            | reduce .[] as $e ({n: 0, most: 0}; .n += $e[1] | .most = ([.most, .n] | max))
            | .most'
}

@test "every VM of the source moves, two at a time, with every acknowledged write" {
    hosts_setup
    guests a1 a2 a3
    run -0 evacuate
    [[ "$output" == *"target $UNREACHABLE cannot be used: ssh: connect to host $UNREACHABLE"* ]]
    [[ "$(report '[.vms[] | "\(.domain) \(.outcome) \(.target)"] | join(",")')" == \
        "a1 moved $LSM_DST_ADDR,a2 moved $LSM_DST_ADDR,a3 moved $LSM_DST_ADDR" ]]
    [[ "$(report '[.vms[].summary.ok] | all')" == true ]]
    (($(most_at_once) == 2))
    local name
    for name in a1 a2 a3; do
        E2E_SRC_PID="${SRC_PIDS[$name]}" e2e_check_migrated "$name" 1
    done
}

@test "a VM that cannot move keeps running on the source, the others move, the run fails naming it" {
    hosts_setup
    guests b1 b2
    echo precious >"$LSM_DST_IMAGES/b2-0.raw"
    run -2 evacuate
    # Shown when the test fails.
    printf '%s\n' "$output"
    [[ "$output" == *"b2 keeps running on the source: "*"target file $LSM_SRC_IMAGES/b2-0.raw already exists"* ]]
    [[ "$output" == *"1 of 2 VMs did not move: b2"* ]]
    [[ "$(report '[.vms[] | "\(.domain) \(.outcome)"] | join(",")')" == "b1 moved,b2 stayed" ]]
    E2E_SRC_PID="${SRC_PIDS[b1]}" e2e_check_migrated b1 1
    [[ "$(cat "$LSM_DST_IMAGES/b2-0.raw")" == precious ]]
    rm "$LSM_DST_IMAGES/b2-0.raw"
    e2e_check_rolled_back b2 1
}

@test "--check makes dry runs only: nothing moves and nothing is changed" {
    hosts_setup
    guests c1
    run -0 evacuate --check
    [[ "$output" == *"c1 could move to $LSM_DST_ADDR (dry run)"* ]]
    [[ "$output" != *"changed="[1-9]* ]]
    [[ "$(report '.vms[0].outcome')" == "would move" ]]
    vm_running c1 "$LSM_SRC_RUN"
    [[ -z "$(ls "$LSM_DST_IMAGES")" ]]
    run ! pgrep -f -- "-name c1 .*-incoming defer"
}

# filters PYTHON: runs PYTHON after importing the playbook's filters, with
# json and sys: plain data in, no host involved.
filters() {
    PYTHONPATH="$LSM_ROOT/ansible/filter_plugins" python3 -c "import json, sys, lsm_evacuate
$1"
}

# The placement on its own.
place() {
    filters '
args = json.load(sys.stdin)
for e in lsm_evacuate.lsm_place(*args):
    print(e["domain"], e["target"] or "nowhere:", e["reason"] or "")' | sed 's/ *$//'
}

@test "each VM goes to the target with the most room left that holds it, biggest first" {
    local G=$((1 << 30)) M=$((1 << 20))
    run -0 place <<EOF
[[{"name": "v1", "memory": $((3 * G)), "disk": $G, "error": null},
  {"name": "v2", "memory": $((512 * M)), "disk": $((20 * G)), "error": null},
  {"name": "v3", "memory": $((2 * G)), "disk": $G, "error": null},
  {"name": "v4", "memory": null, "disk": 0, "error": "lsm-dmstate: error: a blkback disk"},
  {"name": "v5", "memory": $((256 * M)), "disk": $G, "error": null}],
 [{"target": "big", "memory": $((4 * G)), "disk": $((10 * G)), "error": null},
  {"target": "roomy", "memory": $G, "disk": $((100 * G)), "error": null},
  {"target": "off", "memory": null, "disk": null, "error": "ssh: no route to host"}],
 0]
EOF
    [[ "${lines[0]}" == "v1 big" ]]
    [[ "${lines[1]}" == "v2 roomy" ]]
    [[ "${lines[2]}" == "v3 nowhere: no target has room for it: it needs 2048 MiB of memory and 1024 MiB of disk; big has 1024 MiB and 9216 MiB left, roomy has 1024 MiB and 102400 MiB left" ]]
    [[ "${lines[3]}" == "v4 nowhere: lsm-dmstate: error: a blkback disk" ]]
    [[ "${lines[4]}" == "v5 big" ]]
}

# What the probe loop registered, on its own: each target's line.
rooms() {
    filters '
for r in lsm_evacuate.lsm_rooms(json.load(sys.stdin)):
    print(r["msg"])'
}

@test "a target whose probe fails is named with ssh's last word, or its exit status when ssh said nothing" {
    run -0 rooms <<EOF
[{"item": "up", "rc": 0, "stdout": "memory 2048 1048576\ndisk 10 1073741824", "stderr": ""},
 {"item": "off", "rc": 255, "stdout": "", "stderr": "ssh: connect to host off port 22: No route to host\n"},
 {"item": "cut", "rc": -15, "stdout": "", "stderr": "", "msg": "non-zero return code"},
 {"item": "odd", "rc": 0, "stdout": "memory 2048 1048576", "stderr": ""}]
EOF
    [[ "${lines[0]}" == "target up: 2048 MiB of memory and 10240 MiB of disk free" ]]
    [[ "${lines[1]}" == "target off cannot be used: ssh: connect to host off port 22: No route to host" ]]
    [[ "${lines[2]}" == "target cut cannot be used: the probe over ssh exited with status -15, printing nothing on stderr (non-zero return code)" ]]
    [[ "${lines[3]}" == "target odd cannot be used: its answer holds no free memory and disk figures: 'memory 2048 1048576'" ]]
}

@test "the memory reserve keeps a target's last MiBs for its host" {
    run -0 place <<EOF
[[{"name": "v1", "memory": $((1 << 30)), "disk": 0, "error": null}],
 [{"target": "t", "memory": $((1 << 30)), "disk": 0, "error": null}], 1]
EOF
    [[ "$output" == "v1 nowhere: no target has room for it: it needs 1024 MiB of memory and 0 MiB of disk; t has 1023 MiB and 0 MiB left" ]]
}

@test "ansible-doc documents every option of both modules" {
    local py module documented accepted
    py="$(ansible_python)"
    for module in lsm_migrate lsm_domains; do
        documented="$(ansible-doc -M "$LSM_ROOT/ansible/library" --json "$module" |
            jq -c ".$module.doc.options | keys")"
        accepted="$(cd "$LSM_ROOT/ansible/library" && "$py" -c "import json, $module
print(json.dumps(sorted($module.ARGUMENT_SPEC), separators=(',', ':')))")"
        [[ "$documented" == "$accepted" ]]
    done
}

@test "lsm_migrate fails with lsm's usage error and says the VM was not touched" {
    make_scratch T
    run -2 env ANSIBLE_LOCAL_TEMP="$T/ansible" ansible -i localhost, -c local \
        -M "$LSM_ROOT/ansible/library" -e ansible_python_interpreter="$(ansible_python)" \
        --tree "$T/tree" localhost -m lsm_migrate -a 'domain=web1 dest=dst1 downtime=0'
    [[ "$(jq -r '"\(.rc) \(.location) \(.changed)"' "$T/tree/localhost")" == "2 source false" ]]
    [[ "$(jq -r .msg "$T/tree/localhost")" == "lsm-migrate.sh refused its arguments, web1 was not touched: lsm-migrate: --downtime wants milliseconds, got '0' (try --help)" ]]
}
