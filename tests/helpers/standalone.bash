# The test fixtures outside bats (make demo, make bench): load every helper
# and stand in for bats' skip. Source it, then `trap cleanup_run EXIT`.

skip() {
    echo "${0##*/}: cannot run: $*" >&2
    exit 1
}

_standalone_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.bash
source "$_standalone_dir/common.bash"
source "$_standalone_dir/hosts.bash"
source "$_standalone_dir/guest.bash"
source "$_standalone_dir/blank_vm.bash"
source "$_standalone_dir/migrate.bash"
