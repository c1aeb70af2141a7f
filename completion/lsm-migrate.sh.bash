# bash completion for lsm-migrate.sh: its options, then DOMAIN (the QMP
# sockets RUN/qemu/NAME.qmp of the run directory, or `xl list` on a Xen
# dom0), then HOST (Host lines of ~/.ssh/config, unhashed known_hosts).
# Installed as share/bash-completion/completions/lsm-migrate.sh.

_lsm_migrate_options='-s -v -p -C --debug --backend --map --shared-disk --reuse --bandwidth --downtime
    --max-pause --write-blocking --dry-run --json --recover --run-dir --remote-run-dir
    --remote-bindir -h --help'
# ssh's system-wide known hosts.
_lsm_migrate_global_known_hosts=/etc/ssh/ssh_known_hosts
# The options that take a value (the next word).
_lsm_migrate_takes_value='-s -C --backend --map --shared-disk --bandwidth --downtime --max-pause
    --run-dir --remote-run-dir --remote-bindir'

# _lsm_migrate_option_value OPTION: the value OPTION has on the command line
# being completed (the last one given), else nothing.
_lsm_migrate_option_value() {
    local i value=
    for ((i = 1; i < COMP_CWORD; i++)); do
        [[ "${COMP_WORDS[i]}" == "$1" ]] && value="${COMP_WORDS[i + 1]}"
    done
    printf '%s' "$value"
}

# The domains this host could migrate: the running Xen domains on a dom0
# (or with --backend xen), else the QEMU VMs with a QMP socket in RUN/qemu.
_lsm_migrate_domains() {
    local backend run sock
    backend="$(_lsm_migrate_option_value --backend)"
    if [[ -z "$backend" ]] && grep -qs control_d /proc/xen/capabilities; then
        backend=xen
    fi
    if [[ "$backend" == xen ]]; then
        xl list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" && $1 !~ /--(incoming|migratedaway)$/ { print $1 }'
        return
    fi
    run="$(_lsm_migrate_option_value --run-dir)"
    run="${run:-${LSM_RUN_DIR:-/run/lsm}}"
    for sock in "$run"/qemu/*.qmp; do
        [[ -S "$sock" ]] || continue
        sock="${sock##*/}"
        printf '%s\n' "${sock%.qmp}"
    done
}

# The hosts the user's ssh knows by name: Host lines of ~/.ssh/config
# (patterns left out) and the names of unhashed known_hosts entries
# ([name]:port as name; hashed |1| entries cannot be read back).
_lsm_migrate_hosts() {
    local config="$HOME/.ssh/config"
    if [[ -r "$config" ]]; then
        awk 'tolower($1) == "host" { for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i }' "$config"
    fi
    local file
    for file in "$HOME/.ssh/known_hosts" "$_lsm_migrate_global_known_hosts"; do
        [[ -r "$file" ]] || continue
        awk '$1 ~ /^@/ { $1 = ""; $0 = $0 }
             $1 !~ /^(#|\|)/ && NF >= 2 {
                 n = split($1, names, ",")
                 for (i = 1; i <= n; i++) {
                     h = names[i]
                     sub(/^\[/, "", h); sub(/\]:[0-9]+$/, "", h)
                     if (h != "" && h !~ /[*?!]/) print h
                 }
             }' "$file"
    done
}

_lsm_migrate() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD - 1]}"
    COMPREPLY=()

    case "$prev" in
        --backend)
            mapfile -t COMPREPLY < <(compgen -W 'qemu xen' -- "$cur")
            return ;;
        --shared-disk | -C)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -f -- "$cur")
            return ;;
        --run-dir | --remote-run-dir | --remote-bindir)
            compopt -o filenames 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -d -- "$cur")
            return ;;
        -s | --map | --bandwidth | --downtime | --max-pause)
            return ;;
    esac

    # Which positional argument is this: DOMAIN (0) or HOST (1)?
    local i n=0 word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        if [[ " ${_lsm_migrate_takes_value//$'\n'/ } " == *" $word "* ]]; then
            ((i++))
        elif [[ "$word" != -* ]]; then
            ((n++))
        fi
    done

    if [[ "$cur" == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_lsm_migrate_options" -- "$cur")
    elif ((n == 0)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_lsm_migrate_domains)" -- "$cur")
    elif ((n == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_lsm_migrate_hosts | sort -u)" -- "$cur")
    fi
}

complete -F _lsm_migrate lsm-migrate.sh
