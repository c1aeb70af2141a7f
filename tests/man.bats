#!/usr/bin/env bats
# The man pages (make man): each renders without a warning, its POD is
# clean, and it documents every option its program's --help prints.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    require_cmd man podchecker
    PAGES=(lsm-migrate.sh lsm-dmstate lsm-mirror lsm-ramstream lsm-resume lsm-progress)
}

# page_text NAME: the rendered page as plain ASCII, one paragraph a line
# (no line breaks or hyphenation inside an option name).
page_text() {
    LC_ALL=C MANWIDTH=2000 man -l "$LSM_BUILD/man/$1.8" 2>/dev/null | col -b
}

# pod_of NAME: the POD source of a page.
pod_of() {
    if [[ "$1" == lsm-migrate.sh ]]; then
        echo "$LSM_ROOT/scripts/lsm-migrate.sh.pod"
    else
        echo "$LSM_ROOT/tools/$1/$1.pod"
    fi
}

# help_options: the option names in a --help text on stdin, one a line:
# the leading words of each line that starts with an option.
help_options() {
    grep -E '^ {2}-' | sed -E 's/^ +//; s/ {2,}.*//' |
        grep -oE '(^|[ ,])--?[a-z][a-z-]*' | sed -E 's/^[ ,]//' | sort -u
}

# all_help PROGRAM: its --help, then each subcommand's.
all_help() {
    local prog="$1" sub
    "$prog" --help
    for sub in $("$prog" --help | sed -n '/^Subcommands:/,/^$/s/^  \([a-z]*\) .*/\1/p'); do
        "$prog" "$sub" --help
    done
}

# missing_options PROGRAM PAGE: the options PROGRAM's help names that the
# rendered PAGE does not, one a line.
missing_options() {
    local text opt
    text="$(page_text "$2")"
    while read -r opt; do
        grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|\$)" <<<"$text" || echo "$opt"
    done < <(all_help "$1" | help_options)
}

@test "make man built a page for lsm-migrate.sh and each tool" {
    for page in "${PAGES[@]}"; do
        [[ -s "$LSM_BUILD/man/$page.8" ]]
    done
}

@test "every page renders with man -l without a warning" {
    local page err
    for page in "${PAGES[@]}"; do
        err="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$LSM_BUILD/man/$page.8" 2>&1 >/dev/null)"
        [[ -z "$err" ]] || { echo "$page: $err"; return 1; }
    done
}

# (Level 1: level 2 also flags an option documented under two subcommands.)
@test "every page's POD passes podchecker without a warning" {
    local page
    for page in "${PAGES[@]}"; do
        run -0 podchecker -warnings "$(pod_of "$page")"
        [[ "$output" != *WARNING* ]] || { echo "$output"; return 1; }
    done
}

@test "every page has the sections an operator looks for" {
    local page text section
    for page in "${PAGES[@]}"; do
        text="$(page_text "$page")"
        for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES PROTOCOL EXAMPLES "SEE ALSO"; do
            grep -qx "$section" <<<"$text" || { echo "$page: no $section"; return 1; }
        done
        grep -q 'docs/protocol.md' <<<"$text"
    done
}

@test "the lsm-migrate.sh page says which xl migrate options it mirrors" {
    local text
    text="$(page_text lsm-migrate.sh)"
    grep -qx 'XL MIGRATE OPTIONS' <<<"$text"
    for opt in -s -C -p -e -D --debug; do
        grep -qE -- "^ +xl migrate $opt( |\$)" <<<"$text" || { echo "no $opt"; return 1; }
    done
}

@test "help_options finds the options of a CLI11 and of a usage text" {
    run -0 help_options <<'EOF'
Options:
  -h,--help                   Print this help message and exit
  --socket TEXT Excludes: --socket-dir
                              Local unix socket
  -s SSHCMD             command to reach HOST (default: ssh); with -s '' HOST
  -h, --help            this help
EOF
    [[ "$output" == $'--help\n--socket\n--socket-dir\n-h\n-s' ]]
}

@test "every option lsm-migrate.sh --help prints is in its man page" {
    run -0 missing_options lsm-migrate.sh lsm-migrate.sh
    [[ -z "$output" ]]
    (($(lsm-migrate.sh --help | help_options | wc -l) >= 15))
}

@test "every option each tool's --help prints, subcommands included, is in its man page" {
    local tool
    for tool in lsm-dmstate lsm-mirror lsm-ramstream lsm-resume lsm-progress; do
        run -0 missing_options "$tool" "$tool"
        [[ -z "$output" ]] || { echo "$tool: not in the man page: $output"; return 1; }
    done
}

@test "make install puts the man pages in PREFIX/share/man/man8" {
    make_scratch T
    make -s -C "$LSM_ROOT" install PREFIX="$T/usr" >/dev/null
    for page in "${PAGES[@]}"; do
        [[ -s "$T/usr/share/man/man8/$page.8" ]]
    done
    run -0 env MANPATH="$T/usr/share/man" man -w lsm-migrate.sh
    [[ "$output" == "$T/usr/share/man/man8/lsm-migrate.sh.8"* ]]
}
