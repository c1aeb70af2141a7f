#!/usr/bin/env bash
# make bench: what lsm costs next to the bare QMP sequence of a migration
# with local disks (bench/reference_migrate.cpp: what libvirt drives: mirror
# to the destination's NBD export, migrate, cancel the mirrors while the
# source is paused, cont) carried over the same ssh, in the same run, between
# the two namespaced hosts; then the disk copy rate against `ssh cat` of the
# same random bytes; a 64 GiB sparse disk against a 2 GiB one; a 200 Mbit/s
# link; then the peak RSS of every lsm tool while a 2 GiB guest, its RAM
# filled, moves with a 64 GiB sparse disk. Prints min, median and max
# of RUNS runs (default 5) and the ratios of the medians. BENCH_PARTS
# picks some of them (default: all, in this order): bare rate sparse slow
# rss. Needs root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-5}"
parts="${BENCH_PARTS:-bare rate sparse slow rss}"
for part in $parts; do
    [[ "$part" =~ ^(bare|rate|sparse|slow|rss)$ ]] ||
        { echo "bench: unknown part '$part' in BENCH_PARTS (bare rate sparse slow rss)" >&2; exit 2; }
done
disk_mib="${DISK_MIB:-64}"
# shellcheck source=../tests/helpers/standalone.bash
source "$root/tests/helpers/standalone.bash"
trap cleanup_run EXIT

reference="$LSM_BUILD/bench/lsm-bench-reference"
[[ -x "$reference" ]] || skip "$reference is missing; run make bench"
require_cmd /usr/bin/time
hosts_setup
mkdir -p "$LSM_DST_RUN/guest"
data="$LSM_T/data"
head -c "$((disk_mib << 20))" /dev/urandom >"$data"

now() { date +%s.%N; }
# bench_settle: what was just written reaches the disk now, so that its
# writeback is not timed as part of the next copy.
bench_settle() { sync; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }

# The cipher lsm-migrate.sh prefers on this CPU, for the references too.
cipher=()
grep -qw aes /proc/cpuinfo && cipher=(-o "Ciphers=^aes128-gcm@openssh.com,aes256-gcm@openssh.com")

# bench_guest NAME MEM_MIB DISK_SIZE [DATA]: the writing guest on the source,
# its raw disk holding DATA (default: the random data) past the guest's
# region. An idle guest (BENCH_IDLE=1) writes one round, then sleeps.
bench_guest() {
    local name="$1" disk="$LSM_SRC_IMAGES/$1.raw" append="" acks=3
    [[ "${BENCH_IDLE:-}" == 1 ]] && append="lsm.sleep=60000" acks=1
    qemu-img create -q -f raw "$disk" "$3"
    dd if="${4:-$data}" of="$disk" bs=1M seek=8 conv=notrunc status=none
    bench_settle
    LSM_GUEST_APPEND="${LSM_GUEST_APPEND:-$append}" guest_start "$name" "$LSM_SRC_RUN" "$2" "$disk:raw"
    guest_wait_acks "$(guest_ack_log "$name" "$LSM_SRC_RUN")" disk0 "$acks" 90
}

# bench_guest_gone NAME: the guest stops on the destination; its disks
# (a second one too, from bench_guest_two) go from both hosts.
bench_guest_gone() {
    guest_stop "$1" "$LSM_DST_RUN" >/dev/null
    rm -f "$LSM_SRC_IMAGES/$1.raw" "$LSM_DST_IMAGES/$1.raw" \
        "$LSM_SRC_IMAGES/$1-b.raw" "$LSM_DST_IMAGES/$1-b.raw"
}

# lsm_run NAME [DISK_SIZE [OPTION...]]: one lsm-migrate.sh; sets run_total
# (s), run_downtime (ms), run_ram (s: phase 3, RAM and device state to the
# destination running) and run_line (its --json summary).
lsm_run() {
    bench_guest "$1" 256 "${2:-512M}"
    run_line="$(migrate --json "${@:3}" "$1" "$LSM_DST_ADDR" 2>/dev/null)"
    bench_guest_gone "$1"
    run_total="$(field total_s <<<"$run_line")" run_downtime="$(field downtime_ms <<<"$run_line")"
    run_ram="$(field ram_s <<<"$run_line")"
}

# ref_run NAME: the same migration by the bare QMP sequence. Its own ssh
# master as lsm's, the destination QEMU started over it with the source's
# command line (-S -incoming defer), QMP, NBD and the migration stream
# forwarded through it. Sets run_total, run_downtime and run_ram (migrate to
# the destination running, the mirrors finished in between).
ref_cm="$LSM_T/ref-cm"
rsh() {
    # shellcheck disable=SC2086 # LSM_SSH is a command line by design
    on_src $LSM_SSH -o ControlPath="$ref_cm" -o ControlMaster=no "$@"
}
ref_run() {
    local name="$1" fwd="$LSM_T/ref" qmp line t0 t1 argv
    qmp="$(guest_qmp_socket "$name" "$LSM_SRC_RUN")"
    bench_guest "$name" 256 512M
    mkdir -p "$fwd"
    mapfile -d '' argv <"/proc/$(cat "$(guest_pidfile "$name" "$LSM_SRC_RUN")")/cmdline"
    t0="$(now)"
    # shellcheck disable=SC2086 # LSM_SSH is a command line by design
    on_src $LSM_SSH -o ControlMaster=yes -o ControlPath="$ref_cm" -o ControlPersist=no "${cipher[@]}" -f -N \
        -- "$LSM_DST_ADDR"
    rsh -- "$LSM_DST_ADDR" "qemu-img create -q -f raw $LSM_SRC_IMAGES/$name.raw 512M"
    rsh -- "$LSM_DST_ADDR" "$(printf '%q ' "${argv[@]}" -S -incoming defer)"
    rsh -- "$LSM_DST_ADDR" "for i in \$(seq 100); do test -S $qmp && exit; sleep 0.1; done; exit 1"
    rsh -O forward -L "$fwd/qmp:$qmp" -- "$LSM_DST_ADDR"
    rsh -O forward -L "$fwd/nbd:$LSM_SRC_RUN/ref.nbd" -- "$LSM_DST_ADDR"
    rsh -O forward -L "$fwd/mig:$LSM_SRC_RUN/ref.mig" -- "$LSM_DST_ADDR"
    line="$(on_src "$reference" --src-qmp "$qmp" --dst-qmp "$fwd/qmp" \
        --nbd "$fwd/nbd" --dst-nbd "$LSM_SRC_RUN/ref.nbd" \
        --migrate "$fwd/mig" --dst-migrate "$LSM_SRC_RUN/ref.mig" --drive disk0)"
    guest_stop "$name" "$LSM_SRC_RUN" >/dev/null
    t1="$(now)"
    rsh -O exit -- "$LSM_DST_ADDR" 2>/dev/null
    rm -rf "$fwd" "$LSM_DST_RUN/ref.nbd" "$LSM_DST_RUN/ref.mig"
    bench_guest_gone "$name"
    run_total="$(elapsed "$t0" "$t1")" run_downtime="$(field downtime_ms <<<"$line")"
    run_ram="$(field ram_s <<<"$line")"
}

# stats: "min median max" of the numbers on stdin.
stats() {
    grep . | sort -n | awk '{ v[NR] = $1 } END { printf "%s %s %s", v[1], v[int((NR + 1) / 2)], v[NR] }'
}
median() { stats | cut -d' ' -f2; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

row() { printf '  %-16s %-22s %-30s %s\n' "$@"; }

# against_bare WHAT: lsm and the bare QMP sequence, RUNS times each,
# interleaved; prints total, RAM phase and downtime side by side.
against_bare() {
    local -A total ram downtime
    local i who figure
    for ((i = 1; i <= runs; i++)); do
        for who in lsm ref; do
            "${who}_run" "$who$i"
            total[$who]+="$run_total"$'\n' ram[$who]+="$run_ram"$'\n' downtime[$who]+="$run_downtime"$'\n'
            echo "bench: $1, run $i, $who: total $run_total s, RAM phase $run_ram s, downtime $run_downtime ms" >&2
        done
    done
    echo "$1, 256 MiB RAM, 512 MiB raw disk with $disk_mib MiB of data, $runs runs each"
    row "" "lsm (min med max)" "bare QMP, same ssh (min med max)" "lsm/bare (medians)"
    for figure in total ram downtime; do
        local -n of="$figure"
        row "$figure $([[ $figure == downtime ]] && echo "(ms)" || echo "(s)")" "$(stats <<<"${of[lsm]}")" \
            "$(stats <<<"${of[ref]}")" "$(ratio "$(median <<<"${of[lsm]}")" "$(median <<<"${of[ref]}")")x"
    done
}

# A writing and an idle guest, by lsm and by the bare QMP sequence.
part_bare() {
    against_bare "a writing guest"
    BENCH_IDLE=1 against_bare "an idle guest"
}

# ssh_cat_rate: MiB/s of `ssh cat` moving $random ($rate_mib MiB) into a
# file on the destination, over the same ssh options and cipher as lsm's.
ssh_cat_rate() {
    local t0 t1
    bench_settle
    t0="$(now)"
    # shellcheck disable=SC2086 # LSM_SSH is a command line by design
    on_src $LSM_SSH "${cipher[@]}" -- "$LSM_DST_ADDR" "cat >$LSM_SRC_IMAGES/cat.raw" <"$random"
    t1="$(now)"
    rm -f "$LSM_DST_IMAGES/cat.raw"
    awk -v a="$t0" -v b="$t1" -v m="$rate_mib" 'BEGIN { printf "%.0f", m / (b - a) }'
}

# bench_guest_two NAME SIZE: the writing guest with two raw disks of SIZE,
# each holding half of $random past the guest's region (the copy of both
# is then the same bytes as one disk's).
bench_guest_two() {
    local half=$((rate_mib / 2)) disk
    for disk in "$1" "$1-b"; do
        qemu-img create -q -f raw "$LSM_SRC_IMAGES/$disk.raw" "$2"
    done
    dd if="$random" of="$LSM_SRC_IMAGES/$1.raw" bs=1M count="$half" seek=8 conv=notrunc status=none
    dd if="$random" of="$LSM_SRC_IMAGES/$1-b.raw" bs=1M skip="$half" seek=8 conv=notrunc status=none
    bench_settle
    guest_start "$1" "$LSM_SRC_RUN" 256 "$LSM_SRC_IMAGES/$1.raw:raw" "$LSM_SRC_IMAGES/$1-b.raw:raw"
    guest_wait_acks "$(guest_ack_log "$1" "$LSM_SRC_RUN")" disk0 3 90
}

# lsm_rate NAME: lsm's phase 2 rate for the guest NAME, whose disk holds
# $random: the random data over its time (MiB/s).
lsm_rate() {
    local line
    line="$(migrate --json "$1" "$LSM_DST_ADDR" 2>/dev/null)"
    bench_guest_gone "$1"
    awk -v m="$rate_mib" -v s="$(field mirror_s <<<"$line")" 'BEGIN { printf "%.0f", m / s }'
}

# Disk copy rate: lsm's phase 2 for a disk of random data against `ssh cat`
# of the same bytes into a file on the destination, over the same ssh
# options and cipher. Beside a writing guest, `ssh cat` runs beside the
# same guest (its TCG vCPU takes one of the two cores, as it does from the
# mirror), and so does the copy of the same bytes as two disks of half;
# for an idle guest, `ssh cat` runs with no guest at all, which leaves it
# more of the machine than lsm has.
part_rate() {
    local rate_mib=${RATE_MIB:-1024} random="$LSM_T/random" i busy two idle cat_busy cat_idle
    local -A rate
    head -c "$((rate_mib << 20))" /dev/urandom >"$random"
    for ((i = 1; i <= runs; i++)); do
        bench_guest "rate$i" 256 "$((rate_mib + 64))M" "$random"
        cat_busy="$(ssh_cat_rate)"
        busy="$(lsm_rate "rate$i")"
        bench_guest_two "two$i" "$((rate_mib / 2 + 64))M"
        two="$(lsm_rate "two$i")"
        BENCH_IDLE=1 bench_guest "idle$i" 256 "$((rate_mib + 64))M" "$random"
        idle="$(lsm_rate "idle$i")"
        cat_idle="$(ssh_cat_rate)"
        rate[busy]+="$busy"$'\n' rate[two]+="$two"$'\n' rate[idle]+="$idle"$'\n'
        rate[cat_busy]+="$cat_busy"$'\n' rate[cat_idle]+="$cat_idle"$'\n'
        echo "bench: run $i: disk copy lsm $busy MiB/s beside a writing guest (ssh cat $cat_busy MiB/s)," \
            "$two MiB/s as two disks, $idle MiB/s beside an idle one (ssh cat alone $cat_idle MiB/s)" >&2
    done
    rm -f "$random"
    echo "a $rate_mib MiB disk of random data, $runs runs each, interleaved"
    row "" "lsm (min med max)" "ssh cat, same ssh (min med max)" "lsm/ssh cat (medians)"
    row "writing guest" "$(stats <<<"${rate[busy]}")" "beside it: $(stats <<<"${rate[cat_busy]}")" \
        "$(ratio "$(median <<<"${rate[busy]}")" "$(median <<<"${rate[cat_busy]}")")x"
    row "two disks" "$(stats <<<"${rate[two]}")" "beside it: $(stats <<<"${rate[cat_busy]}")" \
        "$(ratio "$(median <<<"${rate[two]}")" "$(median <<<"${rate[cat_busy]}")")x"
    row "idle guest" "$(stats <<<"${rate[idle]}")" "no guest: $(stats <<<"${rate[cat_idle]}")" \
        "$(ratio "$(median <<<"${rate[idle]}")" "$(median <<<"${rate[cat_idle]}")")x"
}

# The same data on a 64 GiB sparse disk and on a 2 GiB one: what the
# empty 62 GiB cost.
part_sparse() {
    local -A sparse
    local i size
    for ((i = 1; i <= runs; i++)); do
        for size in 2G 64G; do
            lsm_run "sparse$size$i" "$size"
            sparse[$size]+="$run_total"$'\n'
            echo "bench: run $i: a $size disk, total $run_total s" >&2
        done
    done
    echo "$disk_mib MiB of data on a sparse raw disk, $runs runs each"
    row "" "64 GiB (min med max)" "2 GiB (min med max)" "64 GiB/2 GiB (medians)"
    row "total (s)" "$(stats <<<"${sparse[64G]}")" "$(stats <<<"${sparse[2G]}")" \
        "$(ratio "$(median <<<"${sparse[64G]}")" "$(median <<<"${sparse[2G]}")")x"
}

# A slow link: the source sends at link_mbit through a token bucket. Total
# against the time the bytes it sent on the link (its counter) need at that
# rate; downtime against --downtime.
part_slow() {
    local link_mbit="${LINK_MBIT:-200}" link_downtime=300 i tx0 bytes_s
    local -A slow
    hosts_link_rate "$link_mbit"
    for ((i = 1; i <= runs; i++)); do
        tx0="$(hosts_link_tx_bytes)"
        lsm_run "slow$i" 512M --downtime "$link_downtime"
        bytes_s="$(awk -v a="$tx0" -v b="$(hosts_link_tx_bytes)" -v m="$link_mbit" \
            'BEGIN { printf "%.2f", (b - a) * 8 / (m * 1000000) }')"
        slow[total]+="$run_total"$'\n' slow[bytes]+="$bytes_s"$'\n' slow[down]+="$run_downtime"$'\n'
        echo "bench: run $i: $link_mbit Mbit/s link, total $run_total s (bytes at link rate $bytes_s s), downtime $run_downtime ms" >&2
    done
    hosts_link_full_rate
    echo "a writing guest over a $link_mbit Mbit/s link, $runs runs"
    row "" "lsm (min med max)" "reference (min med max)" "ratio (medians)"
    row "total (s)" "$(stats <<<"${slow[total]}")" "bytes sent / rate: $(stats <<<"${slow[bytes]}")" \
        "$(ratio "$(median <<<"${slow[total]}")" "$(median <<<"${slow[bytes]}")")x"
    row "downtime (ms)" "$(stats <<<"${slow[down]}")" "--downtime $link_downtime" \
        "$(ratio "$(median <<<"${slow[down]}")" "$link_downtime")x"
}

# The peak RSS of each tool: every tool, on both hosts, runs under GNU time
# through wrappers beside a copy of lsm-migrate.sh, which then finds them as
# its installed tools.
part_rss() {
    local rss_bin="$LSM_T/rss-bin" rss_log="$LSM_T/rss.log" big_ram=2048 big_fill=1536 tool big
    mkdir -p "$rss_bin"
    cp "$root/scripts/lsm-migrate.sh" "$rss_bin/"
    for tool in "$LSM_BIN"/lsm-*; do
        [[ "$tool" == */lsm-unit-tests ]] && continue
        # shellcheck disable=SC2016 # $1 and $@ are the wrapper's
        printf '#!/bin/sh\nexec /usr/bin/time -a -o %q -f "%s $1 %%M" %q "$@"\n' \
            "$rss_log" "${tool##*/}" "$tool" >"$rss_bin/${tool##*/}"
        chmod 755 "$rss_bin/${tool##*/}"
    done
    echo "bench: peak RSS: a ${big_ram} MiB guest with ${big_fill} MiB of RAM filled, a 64 GiB sparse disk" >&2
    LSM_GUEST_APPEND="lsm.mem=$big_fill" bench_guest big "$big_ram" 64G
    wait_until 300 grep -q "filled $big_fill MiB of memory" "$(guest_console_log big "$LSM_SRC_RUN")"
    big="$(PATH="$rss_bin:$PATH" migrate --json big "$LSM_DST_ADDR" 2>/dev/null)"
    bench_guest_gone big

    echo "peak RSS of each tool, ${big_ram} MiB guest (${big_fill} MiB filled, $(field ram_bytes <<<"$big") RAM bytes streamed), 64 GiB sparse disk:"
    awk '{ k = $1 " " $2; if ($3 > m[k]) m[k] = $3 } END { for (k in m) printf "  %-28s %6.1f MiB\n", k, m[k] / 1024 }' \
        "$rss_log" | sort
}

for part in $parts; do
    "part_$part"
done
