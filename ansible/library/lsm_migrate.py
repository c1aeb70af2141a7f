#!/usr/bin/python
# lsm_migrate: Ansible's face of `lsm-migrate.sh --json`, run on the source
# host. It adds no logic of its own to a migration: it passes the options on,
# and reports lsm's exit status as it is documented in lsm-migrate.sh(8)
# (0: the VM runs on the destination; 1 and 2: on the source; 3: only
# `lsm-migrate.sh --recover` can tell), so a playbook can act on where the
# VM runs.

DOCUMENTATION = r"""
module: lsm_migrate
short_description: Live-migrate a VM and its local disks with lsm
description:
  - Runs C(lsm-migrate.sh --json DOMAIN DEST) on the host the task runs on,
    the source, and returns its summary line.
  - C(changed) only when the VM really moved. A failure says why, with
    lsm's own error line, and where the VM runs.
  - Check mode runs C(lsm-migrate.sh --dry-run), which changes nothing on
    either host, and returns the destination's plan.
options:
  domain:
    description: The VM (QEMU C(-name), or the Xen domain name).
    type: str
    required: true
  dest:
    description: The destination host, as lsm-migrate.sh's HOST.
    type: str
    required: true
  ssh:
    description: The command that reaches I(dest) (C(-s)); lsm's default is C(ssh).
    type: str
  backend:
    description: C(--backend); lsm's default is C(xen) on a Xen dom0, else C(qemu).
    type: str
    choices: [qemu, xen]
  downtime:
    description: C(--downtime), the longest acceptable guest pause in ms.
    type: int
  max_pause:
    description: C(--max-pause) in ms.
    type: int
  bandwidth:
    description: C(--bandwidth) in MiB/s, for the whole migration.
    type: float
  map:
    description: C(--map OLD=NEW) path prefix rewrites on the destination.
    type: list
    elements: str
  shared_disks:
    description: C(--shared-disk) paths both hosts already see.
    type: list
    elements: path
  reuse:
    description: C(--reuse) existing destination images of the right size.
    type: bool
    default: false
  write_blocking:
    description: C(--write-blocking), for guests that write faster than the link.
    type: bool
    default: false
  run_dir:
    description: C(--run-dir); lsm's default is C($LSM_RUN_DIR), else C(/run/lsm).
    type: path
  remote_run_dir:
    description: C(--remote-run-dir), the destination's run directory.
    type: path
  remote_bindir:
    description: C(--remote-bindir), where the lsm tools are on I(dest).
    type: path
  lsm_migrate:
    description: lsm-migrate.sh, a path or a name looked up in C(PATH).
    type: str
    default: lsm-migrate.sh
"""

EXAMPLES = r"""
- name: Move web1 to dst1
  lsm_migrate:
    domain: web1
    dest: dst1
    downtime: 500
  register: moved
"""

RETURN = r"""
location:
  description: Where the VM runs now, C(destination), C(source) or C(unknown)
    (exit status 3 or a signal; run the C(lsm-migrate.sh --recover) that
    I(msg) names).
  type: str
  returned: always
summary:
  description: lsm-migrate.sh's C(--json) summary line (docs/protocol.md,
    section 3.7), with the phase times, C(disk_bytes), C(ram_bytes) and
    C(downtime_ms).
  type: dict
  returned: when the VM moved
plan:
  description: The destination's plan, one line per item.
  type: list
  returned: in check mode
rc:
  description: lsm-migrate.sh's exit status.
  type: int
  returned: always
start:
  description: When lsm-migrate.sh started, in seconds since the epoch.
  type: float
  returned: always
end:
  description: When it ended, in seconds since the epoch.
  type: float
  returned: always
log:
  description: What lsm wrote on stderr, its progress lines left out.
  type: list
  returned: always
"""

import json
import time

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = dict(
    domain=dict(type="str", required=True),
    dest=dict(type="str", required=True),
    ssh=dict(type="str"),
    backend=dict(type="str", choices=["qemu", "xen"]),
    downtime=dict(type="int"),
    max_pause=dict(type="int"),
    bandwidth=dict(type="float"),
    map=dict(type="list", elements="str"),
    shared_disks=dict(type="list", elements="path"),
    reuse=dict(type="bool", default=False),
    write_blocking=dict(type="bool", default=False),
    run_dir=dict(type="path"),
    remote_run_dir=dict(type="path"),
    remote_bindir=dict(type="path"),
    lsm_migrate=dict(type="str", default="lsm-migrate.sh"),
)

# Module option -> lsm-migrate.sh option, for those passed on as they are.
VALUE_OPTIONS = {
    "ssh": "-s",
    "backend": "--backend",
    "downtime": "--downtime",
    "max_pause": "--max-pause",
    "bandwidth": "--bandwidth",
    "run_dir": "--run-dir",
    "remote_run_dir": "--remote-run-dir",
    "remote_bindir": "--remote-bindir",
}
LIST_OPTIONS = {"map": "--map", "shared_disks": "--shared-disk"}
FLAG_OPTIONS = {"reuse": "--reuse", "write_blocking": "--write-blocking"}


def option_text(value):
    # lsm wants plain decimals: 100, 12.5 (never 100.0 or 1e+02).
    if isinstance(value, float):
        return ("%f" % value).rstrip("0").rstrip(".")
    return str(value)


def command_line(module):
    p = module.params
    script = p["lsm_migrate"]
    if "/" not in script:
        script = module.get_bin_path(script, required=True)
    argv = [script, "--json"]
    for name, flag in VALUE_OPTIONS.items():
        if p[name] is not None:
            argv += [flag, option_text(p[name])]
    for name, flag in LIST_OPTIONS.items():
        for value in p[name] or []:
            argv += [flag, value]
    argv += [flag for name, flag in FLAG_OPTIONS.items() if p[name]]
    if module.check_mode:
        argv.append("--dry-run")
    return argv + ["--", p["domain"], p["dest"]]


def error_line(log):
    """lsm's one line that says why: the first tool error, else the
    orchestrator's first word (an unreachable host, a failed phase), never
    a warning that came after it (the audit line's)."""
    said = [line for line in log if ": warning: " not in line]
    errors = [line for line in said if ": error: " in line]
    return (errors or said or ["lsm-migrate.sh said nothing"])[0]


def recovery_hint(log):
    """The orchestrator's line naming `--recover`, when it left one."""
    hints = [line for line in log if "--recover" in line]
    return hints[-1] if hints else None


def failure_message(domain, dest, rc, log):
    why = error_line(log)
    hint = recovery_hint(log)
    if rc == 1:
        where = "source"
        msg = "%s keeps running on the source: %s" % (domain, why)
        if hint and hint != why:
            msg += "; " + hint
    elif rc == 2:
        where = "source"
        msg = "lsm-migrate.sh refused its arguments, %s was not touched: %s" % (domain, why)
    elif rc == 3:
        where = "unknown"
        msg = "only %s can tell whether it runs %s, and it could not be asked: %s" % (
            dest, domain, hint or why)
    else:
        where = "unknown"
        ended = "was killed by signal %d" % -rc if rc < 0 else "exited with status %d" % rc
        msg = ("lsm-migrate.sh %s (%s); where %s runs is unknown: "
               "run lsm-migrate.sh --recover %s %s" % (ended, why, domain, domain, dest))
    return where, msg


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    domain, dest = module.params["domain"], module.params["dest"]
    argv = command_line(module)
    start = time.time()
    rc, out, err = module.run_command(argv)
    # Progress lines are JSON (docs/protocol.md 3.6); messages are text.
    log = [line for line in err.splitlines() if line and not line.startswith("{")]
    result = dict(changed=False, cmd=argv, rc=rc, start=start, end=time.time(), log=log)

    if rc != 0:
        where, msg = failure_message(domain, dest, rc, log)
        module.fail_json(msg=msg, location=where, **result)
    if module.check_mode:
        module.exit_json(msg="%s could move to %s (dry run)" % (domain, dest),
                         location="source", plan=out.splitlines(), **result)
    result["changed"] = True
    try:
        summary = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        module.exit_json(msg="%s moved to %s, but its summary line is unreadable: %r"
                         % (domain, dest, out), location="destination", **result)
    module.exit_json(
        msg="%s moved to %s in %s s, downtime %s ms"
        % (domain, dest, summary.get("total_s"), summary.get("downtime_ms")),
        location="destination", summary=summary, **result)


if __name__ == "__main__":
    main()
