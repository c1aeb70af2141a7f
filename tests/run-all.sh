#!/usr/bin/env bash
# Runs every test: the GoogleTest unit tests, then each bats file. Prints
# one closing line "N passed, N failed, N skipped" over all of them and
# fails if anything failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${LSM_BUILD:-$root/build}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

passed=0 failed=0 skipped=0
# How long each file took, printed at the end: make check has a time budget.
times=()

echo "== unit tests"
if "$build/bin/lsm-unit-tests" 2>&1 | tee "$log"; then :; fi
n="$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")"
f="$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")"
if [[ -z "$n" && -z "$f" ]]; then
    echo "unit tests did not run to completion" >&2
    f=1
fi
passed=$((passed + ${n:-0}))
failed=$((failed + ${f:-0}))

# The tool and fixture tests, the end-to-end migrations, then the nested
# Xen lab (two real Xen hosts in QEMU; LSM_SKIP_LAB=1 leaves it out): its
# files in one bats run, which boots the lab once for all of them.
bats_files=()
while IFS= read -r f; do bats_files+=("$f"); done < <(
    find "$root/tests" -maxdepth 1 -name '*.bats' | sort
    find "$root/tests/e2e" -name '*.bats' | sort
    if [[ "${LSM_SKIP_LAB:-}" != 1 ]]; then
        echo "$root/tests/xenlab"
    fi
)

for file in "${bats_files[@]}"; do
    echo "== ${file#"$root"/}"
    started=$SECONDS
    bats --print-output-on-failure --formatter tap --timing "$file" 2>&1 | tee "$log" || true
    p="$(grep -cE '^ok [0-9]+' "$log" || true)"
    s="$(grep -cE '^ok [0-9]+ .*# skip' "$log" || true)"
    x="$(grep -cE '^not ok [0-9]+' "$log" || true)"
    planned="$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n 1)"
    # A file that died before reporting all its tests counts as failed.
    if [[ -z "$planned" ]] || ((p + x < planned)); then
        echo "${file#"$root"/}: ran $((p + x)) of ${planned:-?} tests" >&2
        x=$((x + ${planned:-1} - p - x))
        ((x > 0)) || x=1
    fi
    times+=("$((SECONDS - started)) s  ${file#"$root"/}")
    passed=$((passed + p - s))
    skipped=$((skipped + s))
    failed=$((failed + x))
done

echo "== time per file"
printf '%s\n' "${times[@]}" | sort -rn
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
