#!/usr/bin/env bats
# Bash completion of lsm-migrate.sh (completion/lsm-migrate.sh.bash), run as
# bash would: COMP_WORDS and COMP_CWORD set, the function called, COMPREPLY
# read. HOME and the run directory are the test's own.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    make_scratch T
    export HOME="$T/home"
    mkdir -p "$HOME/.ssh" "$T/run/qemu"
    source "$LSM_ROOT/completion/lsm-migrate.sh.bash"
    # This machine's own known hosts stay out of the answers.
    _lsm_migrate_global_known_hosts="$T/ssh_known_hosts"
}

teardown() { cleanup_run; }

# complete_words WORD...: what completing the last WORD offers, sorted, one a line.
complete_words() {
    COMP_WORDS=(lsm-migrate.sh "$@")
    COMP_CWORD=$#
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _lsm_migrate
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

# qmp_socket NAME: a listening unix socket RUN/qemu/NAME.qmp, as a VM has.
qmp_socket() {
    perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => $ARGV[0], Listen => 1) or die "$!\n"' \
        "$T/run/qemu/$1.qmp"
}

@test "sourcing it registers the completion for lsm-migrate.sh" {
    run -0 complete -p lsm-migrate.sh
    [[ "$output" == "complete -F _lsm_migrate lsm-migrate.sh" ]]
}

@test "a dash completes the options" {
    run -0 complete_words --re
    [[ "$output" == $'--recover\n--remote-bindir\n--remote-run-dir\n--reuse' ]]
    run -0 complete_words -
    for opt in -s -v -p -C --backend --map --shared-disk --bandwidth --downtime --max-pause \
        --write-blocking --dry-run --json --run-dir --help; do
        grep -qx -- "$opt" <<<"$output"
    done
}

@test "every option lsm-migrate.sh --help prints is completed" {
    local completed opt
    completed="$(complete_words -)"
    for opt in $(lsm-migrate.sh --help | grep -E '^ {2}-' | sed -E 's/^ +//; s/ {2,}.*//' |
        grep -oE '(^|[ ,])--?[a-z][a-z-]*' | sed -E 's/^[ ,]//'); do
        grep -qx -- "$opt" <<<"$completed" || { echo "not completed: $opt"; return 1; }
    done
}

@test "the first argument completes the VMs with a QMP socket in --run-dir" {
    qmp_socket web1
    qmp_socket web2
    qmp_socket db1
    : >"$T/run/qemu/notasocket.qmp"
    run -0 complete_words --run-dir "$T/run" we
    [[ "$output" == $'web1\nweb2' ]]
    run -0 complete_words -v --run-dir "$T/run" --downtime 500 ''
    [[ "$output" == $'db1\nweb1\nweb2' ]]
}

@test "the run directory defaults to LSM_RUN_DIR" {
    qmp_socket vm7
    LSM_RUN_DIR="$T/run" run -0 complete_words v
    [[ "$output" == vm7 ]]
}

@test "with --backend xen the domains come from xl list, without Domain-0 or migrating copies" {
    mkdir "$T/bin"
    cat >"$T/bin/xl" <<'EOF'
#!/bin/sh
[ "$1" = list ] || exit 1
echo 'Name                                        ID   Mem VCPUs	State	Time(s)'
echo 'Domain-0                                     0  2048     2     r-----      12.3'
echo 'web1                                         3   512     1     -b----       1.0'
echo 'web2--incoming                               4   512     1     --p---       0.0'
echo 'db1                                          5   512     1     -b----       1.0'
EOF
    chmod +x "$T/bin/xl"
    PATH="$T/bin:$PATH" run -0 complete_words --backend xen ''
    [[ "$output" == $'db1\nweb1' ]]
}

@test "the second argument completes ssh config hosts and unhashed known hosts" {
    cat >"$HOME/.ssh/config" <<'EOF'
Host dst1 dst2
    User root
Host *.example.org !bad
    Port 22
host lowercase
EOF
    cat >"$HOME/.ssh/known_hosts" <<'EOF'
kh1.example.org,192.0.2.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA
[kh2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA
|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= ssh-rsa AAAAB3Nza
@cert-authority *.example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA
# a comment
EOF
    echo 'global1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA' >"$T/ssh_known_hosts"
    qmp_socket web1
    run -0 complete_words --run-dir "$T/run" web1 ''
    [[ "$output" == $'192.0.2.7\ndst1\ndst2\nglobal1\nkh1.example.org\nkh2\nlowercase' ]]
    run -0 complete_words web1 -s 'ssh -p 2222' k
    [[ "$output" == $'kh1.example.org\nkh2' ]]
}

@test "option values: --backend its names, no guesses for numbers, nothing after HOST" {
    run -0 complete_words --backend ''
    [[ "$output" == $'qemu\nxen' ]]
    run -0 complete_words --bandwidth ''
    [[ -z "$output" ]]
    echo 'Host dst1' >"$HOME/.ssh/config"
    run -0 complete_words web1 dst1 ''
    [[ -z "$output" ]]
}

@test "make install puts it where bash-completion loads it on demand" {
    make -s -C "$LSM_ROOT" install PREFIX="$T/usr" >/dev/null
    run -0 bash -c 'source "$1" && complete -p lsm-migrate.sh' _ \
        "$T/usr/share/bash-completion/completions/lsm-migrate.sh"
    [[ "$output" == "complete -F _lsm_migrate lsm-migrate.sh" ]]
}
