#!/usr/bin/env bats
# lsm-migrate.sh between the two real Xen hosts of the nested lab (lab.bash):
# the test guest, writing all along, moves with its local disk from host a
# to host b, or stays on a when the migration fails; plus lsm-ramstream's
# stream checker against what a stock `xl save` writes.
# The lsm tools come in through the share's bin/ (lab_boot copies build/bin
# and scripts/lsm-migrate.sh there), first in the dom0s' PATH. Destination
# host: lab-b, the name a's /etc/hosts and ssh know b by.
# Slow: minutes per test, after the lab's boot (setup_suite.bash).
# LSM_SKIP_LAB=1 skips the file.

bats_require_minimum_version 1.5.0

setup_file() {
    load lab
    lab_setup_file
}

setup() {
    load lab
    lab_setup_test
}

teardown() { lab_teardown_test; }

# migrates_while_writing NAME TYPE: the guest of TYPE (lab_guest_create) starts on a
# and acks; lsm-migrate.sh moves it to b while it writes. Then it runs on
# b and keeps acking new generations, a has neither the domain nor anything
# lsm made, and b's image verifies at the last generation acked anywhere.
# With LAB_GUEST_MEMDIRTY_MB the migration starts once the guest rewrites
# its RAM, and its live RAM rounds are shown.
migrates_while_writing() {
    local name="$1" type="$2" t0 acked longest median opts=()
    lab_guest_create a "$name" "$type"
    lab_guest_wait_acks a "$name" 3 300
    if ((LAB_GUEST_MEMDIRTY_MB)); then
        wait_until 120 lab_guest_console_has a "$name" "filled $LAB_GUEST_MEMDIRTY_MB MiB of memory, rewriting it"
        opts=(-v)
    fi

    lab_ack_watch "$name"
    t0=$EPOCHREALTIME
    run lab_run_on -t 900 a /lab/bin/lsm-migrate.sh "${opts[@]}" "$name" lab-b
    echo "# lsm-migrate.sh of the $type guest a -> b: exit $status after $(lab_seconds_since "$t0") s" >&3
    printf '%s\n' "$output"
    ((status == 0)) || lab_guest_report a "$name"
    assert_success
    grep -E '^  (phase|total|downtime)' <<<"$output" | sed 's/^/# /' >&3
    if ((LAB_GUEST_MEMDIRTY_MB)); then
        grep -E 'RAM round|faster than it can be copied|sent: ' <<<"$output" | sed 's/^/#   /' >&3
        # Live rounds after the first pass: the guest dirtied RAM while it went.
        assert_output --regexp 'RAM round [1-9][0-9]*: [0-9]+ dirty pages'
    fi

    acked="$(lab_guest_acked "$name")"
    lab_guest_wait_acks b "$name" $((acked + 2)) 120
    read -r longest median < <(lab_ack_gaps "$name")
    echo "# xenlab: lsm-migrate.sh, $type guest: longest gap between acks ${longest} s (a write takes ${median} s)" >&3
    run -0 lab_run_on -t 60 b xl list "$name"
    run -1 lab_run_on -t 60 a xl list "$name"
    # The source image stays (the guest's disk as of the move); nothing else.
    lab_host_clean a "$name" --keep-image

    lab_guest_stop_and_verify b "$name"
}

@test "lsm-migrate.sh moves a writing HVM guest and its disk from host a to host b" {
    GUEST="mig-hvm"
    migrates_while_writing "$GUEST" hvm
}

@test "lsm-migrate.sh moves a writing PV guest (qdisk) and its disk from host a to host b" {
    GUEST="mig-pv"
    migrates_while_writing "$GUEST" pv
}

@test "lsm-migrate.sh moves a writing PVH guest (qdisk) and its disk from host a to host b" {
    GUEST="mig-pvh"
    migrates_while_writing "$GUEST" pvh
}

# As production HVM guests run: PV drivers, two vCPUs, more memory, and
# some of it rewritten all the time.
@test "lsm-migrate.sh moves a writing HVM guest with PV drivers (blkfront on qdisk), 2 vCPUs and 512 MB rewriting 4 MiB of its RAM, from host a to host b" {
    GUEST="mig-pvhvm"
    LAB_GUEST_MEM=512 LAB_GUEST_VCPUS=2 LAB_GUEST_MEMDIRTY_MB=4 migrates_while_writing "$GUEST" pvhvm
    # The guest wrote through blkfront all along: no emulated disk acked.
    (($(lab_guest_acked "$GUEST" "" sda) == 0))
}

@test "lsm-migrate.sh moves a writing PV guest with 2 vCPUs and 512 MB rewriting 4 MiB of its RAM from host a to host b" {
    GUEST="mig-big-pv"
    LAB_GUEST_MEM=512 LAB_GUEST_VCPUS=2 LAB_GUEST_MEMDIRTY_MB=4 migrates_while_writing "$GUEST" pv
}

@test "a PV guest with a vif on a bridge answers on its address from b after the move; a keeps no vif of it" {
    GUEST="mig-net"
    local addr=10.99.0.2
    lab_bridge_up a
    lab_bridge_up b
    LAB_GUEST_IP="$addr/24" lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    run -0 lab_run_on -t 60 a busybox ping -c 1 -w 30 "$addr"

    run lab_run_on -t 900 a /lab/bin/lsm-migrate.sh "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_success

    # b's bridge has another MAC address: the first reply may wait for the
    # guest to learn it.
    run -0 lab_run_on -t 60 b busybox ping -c 1 -w 30 "$addr"
    run -0 lab_run_on -t 60 b xl network-list "$GUEST"
    (($(grep -c . <<<"$output") == 2))
    run -0 lab_run_on -t 60 a ls "/sys/class/net/$LAB_BRIDGE/brif"
    assert_output ""
    lab_guest_wait_acks b "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 120
    lab_host_clean a "$GUEST" --keep-image
    lab_guest_stop_and_verify b "$GUEST"
}

@test "a PV guest with a raw and a qcow2 disk moves with both, each verified" {
    GUEST="mig-two"
    LAB_GUEST_QCOW2=1 lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    _lab_guest_acked_two() { (($(lab_guest_acked "$GUEST" a xvdb) >= 3)); }
    wait_until 60 _lab_guest_acked_two

    run lab_run_on -t 900 a /lab/bin/lsm-migrate.sh "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_success
    assert_output --partial "$GUEST migrated to lab-b"

    local raw qcow
    raw="$(lab_guest_acked "$GUEST" "" xvda)"
    qcow="$(lab_guest_acked "$GUEST" "" xvdb)"
    lab_guest_wait_acks b "$GUEST" $((raw + 2)) 120
    _lab_guest_acked_more() { (($(lab_guest_acked "$GUEST" b xvdb) >= qcow + 2)); }
    wait_until 120 _lab_guest_acked_more
    lab_host_clean a "$GUEST" --keep-image

    lab_guest_stop b "$GUEST"
    run -0 lab_guest_verify b "$GUEST"
    # shellcheck disable=SC2016 # expanded on b
    run -0 lab_sh -t 120 b 'qemu-img info "$1" | grep -q "file format: qcow2" &&
        qemu-img convert -O raw "$1" "$1.verify" &&
        /lab/guest/lsm-guest-verify --blocks "$2" --acked "$3" --id xvdb "$1.verify"
        rc=$?; rm -f "$1.verify"; exit $rc' \
        "$LAB_GUEST_DIR/$GUEST.qcow2" "$LAB_GUEST_BLOCKS" "$(lab_guest_acked "$GUEST" "" xvdb)"
    assert_output --partial "$LAB_GUEST_BLOCKS blocks OK"
    lab_host_clean b "$GUEST" --keep-image
}

@test "-p --debug: the PV guest waits paused on b until xl unpause; both hosts' device model logs are kept" {
    GUEST="mig-paused"
    lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    run lab_run_on -t 900 a /lab/bin/lsm-migrate.sh -p --debug "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_success
    assert_output --partial "$GUEST migrated to lab-b, paused there"
    local dir="${output##*the logs of this run are in }"
    dir="${dir%%$'\n'*}"

    # Paused on b, gone from a: no new generation until it is unpaused.
    run -0 lab_run_on -t 60 b xl list "$GUEST"
    [[ "$(awk 'NR == 2 { print $5 }' <<<"$output")" == *p* ]]
    run -1 lab_run_on -t 60 a xl list "$GUEST"
    local acked
    acked="$(lab_guest_acked "$GUEST")"
    sleep 5
    (($(lab_guest_acked "$GUEST") == acked))

    # The directory the run named, on a: debug lines of both hosts' tools,
    # each host's device model log.
    # shellcheck disable=SC2016 # expanded on a
    run -0 lab_sh -t 60 a 'grep -q "lsm-ramstream: guest $2 is here, paused" "$1/migrate.log" &&
        grep -c ": debug: " "$1/migrate.log" &&
        grep -x "==> /var/log/xen/qemu-dm-$2.log <==" "$1/source.logs" &&
        grep -x "==> /var/log/xen/qemu-dm-$2--incoming.log <==" "$1/destination.logs" &&
        rm -r "$1"' "$dir" "$GUEST"

    run -0 lab_run_on -t 60 b xl unpause "$GUEST"
    lab_guest_wait_acks b "$GUEST" $((acked + 2)) 120
    lab_host_clean a "$GUEST" --keep-image
    lab_guest_stop_and_verify b "$GUEST"
}

@test "-C CONFIG: the PV guest runs on b as CONFIG describes it, its disk where CONFIG puts it" {
    GUEST="mig-config"
    local moved="$LAB_GUEST_DIR/moved"
    lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    # CONFIG: the guest's own, with its disk in another directory and
    # another crash action; and one without the disk, which is refused.
    sed -e "s|target=$LAB_GUEST_DIR/|target=$moved/|" -e 's|^on_crash = .*|on_crash = "restart"|' \
        "$LAB_SHARE/guest/$GUEST.cfg" >"$LAB_SHARE/guest/$GUEST-b.cfg"
    sed '/^disk = /d' "$LAB_SHARE/guest/$GUEST.cfg" >"$LAB_SHARE/guest/$GUEST-nodisk.cfg"
    # shellcheck disable=SC2016 # expanded on b
    lab_sh -t 60 b 'mkdir -p "$1"' "$moved"

    run -1 lab_run_on -t 120 a /lab/bin/lsm-migrate.sh --dry-run -C "/lab/guest/$GUEST-nodisk.cfg" \
        "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_output --partial "no disk xvda"
    lab_host_clean b "$GUEST"

    run lab_run_on -t 900 a /lab/bin/lsm-migrate.sh -C "/lab/guest/$GUEST-b.cfg" "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_success
    run -0 lab_run_on -t 60 b xl list -l "$GUEST"
    assert_output --partial "\"pdev_path\": \"$moved/$GUEST.raw\""
    assert_output --partial '"on_crash": "restart"'
    lab_guest_wait_acks b "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 120
    lab_host_clean a "$GUEST" --keep-image

    lab_guest_stop b "$GUEST"
    run -0 lab_run_on -t 120 b /lab/guest/lsm-guest-verify --blocks "$LAB_GUEST_BLOCKS" \
        --acked "$(lab_guest_acked "$GUEST")" --id xvda "$moved/$GUEST.raw"
    assert_output --partial "$LAB_GUEST_BLOCKS blocks OK"
    lab_run_on -t 60 b rm -f "$moved/$GUEST.raw"
    # Nothing at the disk's old path either.
    lab_host_clean b "$GUEST"
}

@test "a PV guest on a logical volume moves to one of the same size on b; a rollback there removes only the volume it made" {
    GUEST="mig-lv"
    local log="$BATS_TEST_TMPDIR/migrate.log" rc=0 size sum
    lab_vg_up a
    lab_vg_up b
    # Someone else's volume in the same group on b, which no rollback may touch.
    run -0 lab_run_on -t 60 b lvcreate -q -y --wipesignatures n -L 4M -n bystander "$LAB_VG"
    LAB_GUEST_LV=1 LAB_GUEST_FILL_MB=6 lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    size="$(lab_run_on -t 60 a lvs --noheadings --nosuffix --units b -o lv_size "$LAB_VG/$GUEST")"

    # Interrupted once b has made its volume: the rollback removes it.
    lab_migrate_bg "$log" --bandwidth 1 "$GUEST" lab-b
    wait_until 300 lab_run_on -t 30 b lvs "$LAB_VG/$GUEST"
    # shellcheck disable=SC2016 # expanded on a
    run -0 lab_sh -t 60 a 'pkill -INT -f "$1"' 'lsm-migrate[.]sh --bandwidth 1'
    lab_migrate_wait "$log" || rc=$?
    ((rc == 1))
    run -0 lab_run_on -t 60 b lvs --noheadings -o lv_name "$LAB_VG"
    assert_output --regexp '^ *bystander$'
    run -0 lab_run_on -t 60 a xl list "$GUEST"
    lab_guest_wait_acks a "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 120
    lab_host_clean b "$GUEST"

    run lab_run_on -t 900 a /lab/bin/lsm-migrate.sh "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_success
    run -0 lab_run_on -t 60 b lvs --noheadings --nosuffix --units b -o lv_size "$LAB_VG/$GUEST"
    [[ "${output// /}" == "${size// /}" ]]
    lab_guest_wait_acks b "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 120
    lab_host_clean a "$GUEST" --keep-image
    lab_guest_stop_and_verify b "$GUEST"
    # The random data past the writer's region came over as it is on a.
    # shellcheck disable=SC2016 # expanded on each host
    sum='dd if="$1" bs=1M skip=8 count=6 status=none | md5sum'
    run -0 lab_sh -t 60 a "$sum" "/dev/$LAB_VG/$GUEST"
    local on_a="$output"
    run -0 lab_sh -t 60 b "$sum" "/dev/$LAB_VG/$GUEST"
    assert_output "$on_a"
    run -0 lab_run_on -t 60 b lvremove -q -y "$LAB_VG/bystander"
}

@test "a disk the dom0 kernel serves (blkback) is refused at --dry-run, naming the fix" {
    GUEST="mig-phy"
    LAB_GUEST_PV_BACKEND="" lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 2 120
    run -1 lab_run_on -t 120 a /lab/bin/lsm-migrate.sh --dry-run "$GUEST" lab-b
    printf '%s\n' "$output"
    assert_output --partial "disk xvda"
    assert_output --partial "backendtype=qdisk"
    (($(grep -c . <<<"$output") == 1))
    run -0 lab_run_on -t 60 a xl list "$GUEST"
    lab_host_clean b "$GUEST"
}

# The mirror has begun: its progress line is in the log, or b's new image
# holds data. Also true once the migration has ended (then nothing to cut).
mirror_started() {
    local log="$1" name="$2" pid="$3" blocks
    grep -q "disks:" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    blocks="$(lab_run_on -t 30 b stat -c %b "$LAB_GUEST_DIR/$name.raw" 2>/dev/null)" || return 1
    ((blocks > 2048))
}

@test "ssh killed during the disk mirror: lsm-migrate.sh fails, the guest keeps running on a, b is clean" {
    GUEST="mig-cut"
    # 24 MiB of data to mirror at 2 MiB/s: the mirror lasts long enough to
    # be cut in the middle.
    LAB_GUEST_DISK_MB=40 LAB_GUEST_FILL_MB=24 lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120

    local log="$BATS_TEST_TMPDIR/migrate.log" pid rc=0
    lab_run_on -t 900 a /lab/bin/lsm-migrate.sh --bandwidth 2 "$GUEST" lab-b >"$log" 2>&1 3>&- &
    pid=$!
    wait_until 300 mirror_started "$log" "$GUEST" "$pid"
    kill -0 "$pid"    # still migrating: there is something to cut
    # Every ssh client on a: the migration's connection (and any master).
    run -0 lab_run_on -t 60 a pkill -KILL -x ssh
    wait "$pid" || rc=$?
    cat "$log"
    echo "# lsm-migrate.sh exit status $rc after its ssh was killed" >&3
    ((rc != 0))
    grep -q "phase 2 (mirror) failed; rolling back" "$log"

    run -0 lab_run_on -t 60 a xl list "$GUEST"
    lab_guest_wait_acks a "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 120
    lab_host_clean b "$GUEST"
    lab_guest_stop_and_verify a "$GUEST"
}

# An xl save file: the "Xen saved domain, xl format\n \0 \r" magic (32
# bytes), byte order marker, mandatory flags, optional flags, optional data
# length (u32 at offset 44), then that many bytes of config: the libxl v2
# stream ("LibxlFmt") begins at 48 + that length.
# lab_migrate_bg LOG ARGS...: lsm-migrate.sh on a, in the background; its
# output in LOG, its pid (of the ssh to a) in MIGRATE_PID.
lab_migrate_bg() {
    local log="$1"
    shift
    lab_run_on -t 900 a /lab/bin/lsm-migrate.sh "$@" >"$log" 2>&1 3>&- &
    MIGRATE_PID=$!
}

lab_migrate_wait() {
    local rc=0
    wait "$MIGRATE_PID" || rc=$?
    cat "$1"
    echo "# lsm-migrate.sh exit status $rc" >&3
    return "$rc"
}

@test "ssh killed during the RAM stream: lsm-migrate.sh fails, the guest keeps running on a, b is clean" {
    GUEST="mig-ramcut"
    lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    local log="$BATS_TEST_TMPDIR/migrate.log" rc=0
    # 96 MB of RAM at 1 MiB/s: the RAM phase lasts long enough to be cut.
    lab_migrate_bg "$log" --bandwidth 2 "$GUEST" lab-b
    # The mirrors are READY: phase 3 begins.
    wait_until 300 grep -q "all disks ready" "$log"
    sleep 5
    run -0 lab_run_on -t 60 a pkill -KILL -x ssh
    lab_migrate_wait "$log" || rc=$?
    ((rc == 1))
    grep -q "phase 3 (RAM, device state and the switchover) failed; rolling back" "$log"

    run -0 lab_run_on -t 60 a xl list "$GUEST"
    lab_guest_wait_acks a "$GUEST" $(($(lab_guest_acked "$GUEST") + 2)) 120
    lab_host_clean b "$GUEST"
    lab_guest_stop_and_verify a "$GUEST"
}

@test "SIGINT to lsm-migrate.sh once b has committed: the guest runs on b, a is released" {
    GUEST="mig-int"
    lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    local log="$BATS_TEST_TMPDIR/migrate.log" rc=0 acked
    lab_migrate_bg "$log" "$GUEST" lab-b
    wait_until 600 lab_run_on -t 30 b test -e "/run/lsm/lsm/$GUEST.committed"
    lab_run_on -t 30 a pkill -INT -f "lsm-migrate.sh $GUEST lab-b" || true
    lab_migrate_wait "$log" || rc=$?
    ((rc == 0))

    acked="$(lab_guest_acked "$GUEST")"
    lab_guest_wait_acks b "$GUEST" $((acked + 2)) 120
    run -1 lab_run_on -t 60 a xl list "$GUEST"
    lab_host_clean a "$GUEST" --keep-image
    lab_guest_stop_and_verify b "$GUEST"
}

@test "lsm-ramstream check accepts the libxl stream of a stock xl save of a PV guest" {
    GUEST="save-pv"
    lab_guest_create a "$GUEST" pv
    lab_guest_wait_acks a "$GUEST" 3 120
    local save="$LAB_GUEST_DIR/$GUEST.save"
    run -0 lab_run_on -t 300 a xl save "$GUEST" "$save"
    # shellcheck disable=SC2016 # expanded on a
    run -0 lab_sh -t 300 a 'save="$1"
        magic="$(head -c 32 "$save" | od -An -c | tr -d " \n")"
        [ "$magic" = "Xensaveddomain,xlformat\\n\\0\\r" ] || { echo "not an xl save file: $magic"; exit 1; }
        len="$(od -An -tu4 -j 44 -N 4 "$save" | tr -d " ")"
        off=$((48 + len))
        ident="$(tail -c +$((off + 1)) "$save" | head -c 8)"
        [ "$ident" = LibxlFmt ] || { echo "no LibxlFmt at offset $off: $ident"; exit 1; }
        tail -c +$((off + 1)) "$save" | /lab/bin/lsm-ramstream check
        rc=$?
        rm -f "$save"
        exit "$rc"' "$save"
    printf '%s\n' "$output"
    assert_output --partial '"domain_type":1'
}
