#!/usr/bin/env bats
# Proves the two-hosts fixture (helpers/hosts.bash) that the migration tests
# stand on. One fixture for the whole file, as most test files will use it.

bats_require_minimum_version 1.5.0

setup_file() {
    load helpers/common
    load helpers/hosts
    hosts_setup
}

teardown_file() {
    cleanup_run
    hosts_leftovers
}

setup() {
    load helpers/common
    load helpers/hosts
    bats_load_library bats-support
    bats_load_library bats-assert
}

teardown() {
    cleanup_run
}

@test "ssh from the source reaches the destination's sshd with the generated keys" {
    run -0 ssh_dst hostname
    assert_output lsm-dst

    # What the tools will do: -s "$LSM_SSH" word-split, run from the source.
    # shellcheck disable=SC2086
    run -0 on_src $LSM_SSH "$LSM_DST_ADDR" env
    assert_line --regexp '^PATH=.*/usr/bin'
    assert_line --regexp "^SSH_CONNECTION=$LSM_SRC_ADDR [0-9]+ $LSM_DST_ADDR 22\$"
}

@test "the same absolute path holds a different file on each host" {
    local path="$LSM_SRC_IMAGES/x"
    echo on-src >"$path"
    # shellcheck disable=SC2016
    on_dst sh -c 'echo on-dst >"$1"' sh "$path"

    assert_equal "$(cat "$path")" on-src
    assert_equal "$(on_dst cat "$path")" on-dst
    assert_equal "$(ssh_dst cat "$path")" on-dst
    assert_equal "$(cat "$LSM_DST_IMAGES/x")" on-dst
}

@test "the hosts' addresses exist only inside their namespaces" {
    # Checked by looking, not by sending packets out of the root namespace.
    run -0 ip -o addr show
    refute_output --partial "$LSM_SRC_ADDR"
    refute_output --partial "$LSM_DST_ADDR"

    # Neither host has a way out: only the veth subnet is routed.
    local ns
    for ns in "$LSM_SRC_NS" "$LSM_DST_NS"; do
        run -0 ip -n "$ns" -4 route show
        assert_output --regexp '^10\.231\.0\.0/24 dev eth0 '
        assert_equal "${#lines[@]}" 1
    done

    # sshd listens on the destination's address only.
    run -0 on_dst ss -Hltn
    assert_output --regexp "^LISTEN +[0-9]+ +[0-9]+ +$LSM_DST_ADDR:22 "
    assert_equal "${#lines[@]}" 1
}

@test "a unix socket forwarded over an ssh ControlMaster reaches qemu-nbd on the destination" {
    require_cmd qemu-nbd qemu-img
    # Same image path on both hosts, different sizes, to tell them apart.
    local image="$LSM_SRC_IMAGES/fwd.raw" remote="$LSM_SRC_RUN/nbd.sock" local="$LSM_SRC_RUN/fwd.sock"
    qemu-img create -q -f raw "$image" 2M
    qemu-img create -q -f raw "$LSM_DST_IMAGES/fwd.raw" 1M

    on_dst qemu-nbd --fork --persistent --read-only -f raw -k "$remote" \
        --pid-file "$LSM_SRC_RUN/nbd.pid" "$image"
    cleanup_push kill "$(cat "$LSM_DST_RUN/nbd.pid")"
    [[ -S "$LSM_DST_RUN/nbd.sock" && ! -e "$LSM_SRC_RUN/nbd.sock" ]]

    # A background master keeps the stdout it was given: never let it have a
    # pipe that `run` or $(...) waits on.
    ssh_dst -o ControlMaster=yes -f -N </dev/null >/dev/null 2>"$LSM_T/cm.log"
    cleanup_push ssh_dst -O exit
    ssh_dst -O forward -L "$local:$remote"

    run -0 qemu-img info "nbd+unix:///?socket=$local"
    assert_line --regexp '^virtual size: 1 MiB'
}

# Runs a long remote command through ssh in the background; returns once it
# runs on the destination, with the client's pid in SSH_CLIENT_PID.
start_remote_sleep() {
    local started="$LSM_SRC_RUN/started"
    ssh_dst ": >$started; exec sleep 30" </dev/null >/dev/null 2>&1 3>&- &
    SSH_CLIENT_PID=$!
    wait_until 10 test -e "$LSM_DST_RUN/started"
    rm "$LSM_DST_RUN/started"
}

@test "killing the ssh sessions breaks the connection at once" {
    start_remote_sleep
    hosts_kill_ssh_sessions
    local rc=0
    wait "$SSH_CLIENT_PID" || rc=$? # not under `run`: a subshell cannot wait
    assert_equal "$rc" 255

    # The listener survives: new connections still work.
    ssh_dst true
}

@test "a link down is noticed by the ssh client within seconds" {
    start_remote_sleep
    cleanup_push hosts_link_up
    local t0=$SECONDS
    hosts_link_down
    local rc=0
    wait "$SSH_CLIENT_PID" || rc=$? # not under `run`: a subshell cannot wait
    assert_equal "$rc" 255
    ((SECONDS - t0 <= 10))

    hosts_link_up
    wait_until 5 ssh_dst true
}

@test "a second fixture coexists with the first and its cleanup leaves nothing behind" {
    local first_ns="$LSM_DST_NS"
    hosts_setup
    [[ "$LSM_DST_NS" != "$first_ns" ]]
    ssh_dst true
    # Processes that outlive their ssh session, on both hosts.
    ssh_dst 'sleep 60 </dev/null >/dev/null 2>&1 &'
    on_src sleep 60 </dev/null >/dev/null 2>&1 3>&- &

    cleanup_run
    hosts_leftovers
    ip netns list | grep -q "^$first_ns"
}
