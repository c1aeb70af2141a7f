#!/usr/bin/env bats
# The audit trail: every migration leaves one line in the system log of
# both hosts. lsm-migrate.sh runs against the fake tools and the fake ssh
# (helpers/fake_tools), so "both hosts" log to this machine; the system log
# is the test's own socat listening on LSM_SYSLOG_SOCKET.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/fake_tools
    require_cmd socat logger
    make_scratch T
    fake_tools_install "$T/bin"
    export FAKE_SSH_LOG="$T/ssh.log" LSM_SYSLOG_SOCKET="$T/log.sock"
    export FAKE_REPORT='{"lsm":1,"type":"result","phase":"ram","ok":true,"ram_bytes":5,"disk_bytes":7,"paused_at":"100.250000"}'
    socat -u "UNIX-RECV:$LSM_SYSLOG_SOCKET" "OPEN:$T/syslog,creat,append" 3>&- &
    cleanup_push kill "$!"
    wait_until 5 test -S "$LSM_SYSLOG_SOCKET"
}

teardown() { cleanup_run; }

fake_migrate() {
    "$T/bin/lsm-migrate.sh" -s "$T/bin/fake-ssh" --run-dir "$T/run" "$@"
}

# syslog_lines: the datagrams received so far, one a line.
syslog_lines() {
    sed 's/<[0-9]*>/\n&/g' "$T/syslog" | sed '/^$/d'
}

# wait_lines N: until the listener has N lines.
wait_lines() {
    wait_until 5 eval '(($(syslog_lines | wc -l) >= $1))'
}

@test "a migration leaves one line tagged lsm on the source and one on the destination" {
    run -0 fake_migrate vm dst1
    wait_lines 2
    run -0 syslog_lines
    ((${#lines[@]} == 2))
    [[ "${lines[0]}" == "<13>"*" lsm: migrate domain=vm source=$(uname -n) destination=dst1 result=migrated "* ]]
    [[ "${lines[0]}" == *" logged_by=source" ]]
    [[ "${lines[1]}" == *" result=migrated "*" logged_by=destination" ]]
    local field
    for field in prepare_s mirror_s ram_s resume_s total_s downtime_ms; do
        [[ "${lines[0]}" =~ \ $field=-?[0-9.]+\  ]] || { echo "no $field"; return 1; }
    done
    [[ "${lines[0]}" == *" user=${SUDO_USER:-${USER:-$(id -un)}} "* ]]
}

@test "the line names who ran it through sudo" {
    SUDO_USER=alice run -0 fake_migrate vm dst1
    wait_lines 2
    run -0 syslog_lines
    [[ "${lines[0]}" == *" user=alice "* && "${lines[1]}" == *" user=alice "* ]]
}

@test "the destination's line goes out after the migration ended, in the existing ssh master" {
    run -0 fake_migrate vm dst1
    # The last two remote commands: the commit's release, then the audit.
    run -0 grep -- ' -- dst1 [^ ]' "$T/ssh.log"
    [[ "${lines[-2]}" == *lsm-resume*receive*vm*--release* ]]
    [[ "${lines[-1]}" == *"ControlMaster=no"*"logger"*"logged_by=destination"* ]]
}

@test "a failed migration logs rolled-back with the phase that failed" {
    FAKE_RC_lsm_mirror_send=1 run -1 fake_migrate vm dst1
    wait_lines 2
    run -0 syslog_lines
    [[ "${lines[0]}" == "<12>"*" result=rolled-back prepare_s="*' reason="phase 2 (mirror) failed" '*"logged_by=source" ]]
    [[ "${lines[0]}" != *mirror_s=* ]]
    [[ "${lines[1]}" == *" result=rolled-back "*"logged_by=destination" ]]
}

@test "a migration only --recover can settle logs needs-recovery" {
    # go was said, then neither the stream nor the destination answers.
    FAKE_RC_lsm_ramstream_send=3 FAKE_RC_lsm_resume_receive=255 run -3 fake_migrate vm dst1
    [[ "$output" == *"--recover vm dst1"* ]]
    wait_lines 1
    run -0 syslog_lines
    [[ "${lines[0]}" == "<11>"*" migrate domain=vm "*" result=needs-recovery "* ]]
}

@test "--recover leaves its own line" {
    run -1 fake_migrate --recover vm dst1
    wait_lines 2
    run -0 syslog_lines
    [[ "${lines[0]}" == *" lsm: recover domain=vm "*" result=rolled-back "*"logged_by=source" ]]
}

@test "a host name that needs quoting is quoted in the line" {
    run -0 fake_migrate vm 'dst"1 x'
    wait_lines 1
    run -0 syslog_lines
    [[ "${lines[0]}" == *' destination="dst\"1 x" '* ]]
}

@test "no syslog socket: the migration succeeds with one warning" {
    LSM_SYSLOG_SOCKET="$T/absent" run -0 --separate-stderr fake_migrate vm dst1
    [[ "$output" == "vm migrated to dst1"* ]]
    [[ "$stderr" == "lsm-migrate: warning: the audit line of this migration is not in the system log of this host and dst1"* ]]
    (($(wc -l <<<"$stderr") == 1))
}

@test "--dry-run, usage errors and an unknown domain log nothing" {
    run -0 fake_migrate --dry-run vm dst1
    run -2 fake_migrate --teleport vm dst1
    FAKE_RC_lsm_dmstate_send=2 run -1 fake_migrate vm dst1
    sleep 0.5
    [[ ! -s "$T/syslog" ]]
}
