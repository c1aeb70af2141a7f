#!/usr/bin/env bats
# make deb: the Debian package builds (debhelper, lintian without error),
# holds what an operator needs, and its files alone migrate a writing guest
# between the two namespaced hosts.
bats_require_minimum_version 1.5.0

setup_file() {
    load helpers/common
    load helpers/hosts
    require_cmd dpkg-buildpackage dh lintian dpkg-deb
    # Once per file: the package build compiles everything again.
    make -s -C "$LSM_ROOT" deb >"$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
        { cat "$BATS_FILE_TMPDIR/deb.log" >&2; return 1; }
    export LSM_DEB
    LSM_DEB="$LSM_BUILD/deb/lsm_$(cat "$LSM_ROOT/VERSION")_$(dpkg --print-architecture).deb"
    hosts_setup
    # The package unpacked into a root of its own, seen by both hosts.
    export LSM_PKG_ROOT="$LSM_T/pkg"
    dpkg -x "$LSM_DEB" "$LSM_PKG_ROOT"
}

teardown_file() { cleanup_run; }

setup() {
    load helpers/common
    load helpers/hosts
    load helpers/guest
    load helpers/blank_vm
    load helpers/migrate
}

teardown() { cleanup_run; }

@test "make deb leaves the package in build/deb and nothing in the checkout" {
    [[ -s "$LSM_DEB" ]]
    ls "$LSM_BUILD"/deb/lsm_*.changes >/dev/null
    [[ ! -e "$LSM_ROOT/debian/lsm" && ! -e "$LSM_ROOT/debian/changelog" ]]
    [[ -z "$(find "$LSM_ROOT/.." -maxdepth 1 -name 'lsm_*')" ]]
}

@test "the package is versioned from VERSION and depends on qemu-utils, ssh and the libxen libraries" {
    run -0 dpkg-deb -f "$LSM_DEB" Package Version Depends Recommends
    [[ "$output" == *"Version: $(cat "$LSM_ROOT/VERSION")"* ]]
    [[ "$output" == *"Depends:"*qemu-utils* && "$output" == *openssh-client* ]]
    # libxenlight, libxenctrl and libxenguest are Debian's libxenmisc.
    [[ "$output" == *libxenmisc* && "$output" == *libxenstore* && "$output" == *libxentoollog* ]]
    [[ "$output" == *"Recommends:"*qemu-system-x86*xen-utils* ]]
}

@test "the package holds the tools, lsm-migrate.sh, the man pages, the completion and the policy" {
    local f
    for f in usr/bin/lsm-{dmstate,mirror,ramstream,resume} usr/bin/lsm-migrate.sh \
        usr/share/man/man8/lsm-{migrate.sh,dmstate,mirror,ramstream,resume}.8.gz \
        usr/share/bash-completion/completions/lsm-migrate.sh etc/lsm/policy.conf \
        usr/share/doc/lsm/protocol.md.gz; do
        [[ -e "$LSM_PKG_ROOT/$f" ]] || { echo "not in the package: $f"; return 1; }
    done
}

@test "/etc/lsm/policy.conf is a conffile" {
    run -0 bash -c 'dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles' _ "$LSM_DEB"
    [[ "$output" == /etc/lsm/policy.conf ]]
}

@test "the installed lsm-migrate.sh --help, the man page and the completion work" {
    run -0 "$LSM_PKG_ROOT/usr/bin/lsm-migrate.sh" --help
    [[ "$output" == "Usage: lsm-migrate.sh"* ]]
    run -0 "$LSM_PKG_ROOT/usr/bin/lsm-dmstate" --version
    [[ "$output" == "lsm-dmstate $(cat "$LSM_ROOT/VERSION")" ]]
    run -0 --separate-stderr env LC_ALL=C MANWIDTH=80 man --warnings -l \
        "$LSM_PKG_ROOT/usr/share/man/man8/lsm-migrate.sh.8.gz"
    [[ "$output" == *"XL MIGRATE OPTIONS"* && -z "$stderr" ]]
    run -0 bash -c 'source "$1" && complete -p lsm-migrate.sh' _ \
        "$LSM_PKG_ROOT/usr/share/bash-completion/completions/lsm-migrate.sh"
}

@test "the installed files alone migrate a writing guest, and both hosts log it" {
    require_cmd socat
    local name=gdeb bin="$LSM_PKG_ROOT/usr/bin"
    local src_log="$LSM_T/src-syslog.sock"
    socat -u "UNIX-RECV:$src_log" "OPEN:$LSM_T/src-syslog,creat,append" 3>&- &
    cleanup_push kill "$!"
    socat -u "UNIX-RECV:$LSM_DST_SYSLOG" "OPEN:$LSM_T/dst-syslog,creat,append" 3>&- &
    cleanup_push kill "$!"
    wait_until 5 test -S "$src_log" -a -S "$LSM_DST_SYSLOG"
    export LSM_GUEST_BLOCKS=64
    e2e_guest "$name" 128 raw:32M qcow2:64M
    # No build tree on either side: PATH without it, the tools beside the
    # installed script here and in the package root there.
    run -0 --separate-stderr on_src env --default-signal=INT TMPDIR="$LSM_T" \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin LSM_SYSLOG_SOCKET="$src_log" \
        "$bin/lsm-migrate.sh" -s "$LSM_SSH" --run-dir "$LSM_SRC_RUN" --remote-bindir "$bin" \
        "$name" "$LSM_DST_ADDR"
    [[ "$output" == *"$name migrated to $LSM_DST_ADDR"* ]]
    [[ "$stderr" != *warning* ]]
    e2e_check_migrated "$name" 2
    wait_until 5 grep -q "domain=$name .*result=migrated .*logged_by=source" "$LSM_T/src-syslog"
    wait_until 5 grep -q "domain=$name .*result=migrated .*logged_by=destination" "$LSM_T/dst-syslog"
}
