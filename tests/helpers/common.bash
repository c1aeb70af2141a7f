# Shared by every bats file: paths, prerequisites and cleanup registration.
# Load it from setup() or setup_file(): `load helpers/common`.

LSM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LSM_BUILD="${LSM_BUILD:-$LSM_ROOT/build}"
LSM_BIN="$LSM_BUILD/bin"
export LSM_ROOT LSM_BUILD LSM_BIN
PATH="$LSM_BIN:$LSM_ROOT/scripts:$PATH"

# Skips the test with a reason when a prerequisite is truly absent.
require_cmd() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || skip "$cmd is not installed"
    done
}

require_root() {
    [[ $(id -u) -eq 0 ]] || skip "needs root (network and mount namespaces)"
}

# Cleanup hooks run in reverse order of registration by cleanup_run (call it
# from teardown / teardown_file). Register a hook the moment a resource exists.
LSM_CLEANUP=()
cleanup_push() {
    LSM_CLEANUP+=("$(printf '%q ' "$@")")
}

cleanup_run() {
    local i
    for ((i = ${#LSM_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${LSM_CLEANUP[i]}" || true
    done
    LSM_CLEANUP=()
}

# make_scratch VAR: a short private scratch directory in VAR, removed at
# cleanup (unix socket paths must stay under 108 bytes, so not BATS_TEST_TMPDIR).
make_scratch() {
    local -n _dir="$1"
    _dir="$(mktemp -d /tmp/lsm.XXXXXX)"
    chmod 700 "$_dir"
    cleanup_push rm -rf "$_dir"
}

# Polls CMD... until it succeeds or TIMEOUT seconds pass.
wait_until() {
    local timeout="$1"; shift
    local deadline=$((SECONDS + timeout))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

# test_policy FILE IMAGE_ROOT...: writes a host policy (docs/policy.md) for
# a test's destination, its image roots the test's scratch dirs and the
# test guest's kernel and initramfs allowed from the build dir, and
# exports LSM_POLICY so the tools run here read it. The defaults would
# refuse both; /etc/lsm is the machine's own and left alone.
test_policy() {
    local file="$1"
    shift
    {
        echo "# written by test_policy (tests/helpers/common.bash)"
        echo "image_roots = $*"
        echo "boot_dirs = $LSM_BUILD"
    } >"$file"
    export LSM_POLICY="$file"
}
