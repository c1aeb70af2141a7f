#!/usr/bin/python
# lsm_domains: the VMs an evacuation would move off this host, and what each
# needs on a target: its memory, and the bytes its disks hold, which is what
# the destination's lsm-dmstate checks against its free space. Each VM is
# described by lsm itself (`lsm-dmstate send --dry-run`, which changes
# nothing), so a VM lsm would refuse is known here, with lsm's reason.

DOCUMENTATION = r"""
module: lsm_domains
short_description: List this host's VMs with what each needs to move
description:
  - QEMU backend, the VMs with a QMP socket in RUN/qemu (as lsm-migrate.sh
    finds them); Xen, the domains C(xl list) shows.
  - Each one is described with C(lsm-dmstate send --dry-run); one that lsm
    would refuse carries lsm's error line.
options:
  backend:
    description: C(qemu) or C(xen); by default C(xen) on a Xen dom0, else
      C(qemu), as lsm-migrate.sh picks it.
    type: str
    choices: [qemu, xen]
  run_dir:
    description: The run directory; by default C($LSM_RUN_DIR), else C(/run/lsm).
    type: path
  shared_disks:
    description: Disks both hosts already see; they need no room on a target.
    type: list
    elements: path
  lsm_dmstate:
    description: lsm-dmstate, a path or a name looked up in C(PATH).
    type: str
    default: lsm-dmstate
"""

RETURN = r"""
backend:
  description: The backend the VMs were listed with.
  type: str
  returned: always
domains:
  description: One entry per VM, with C(name), C(memory) and C(disk) (the
    bytes it needs on a target), and C(error), lsm's reason to refuse it,
    or null.
  type: list
  returned: always
"""

import json
import os
import re
import stat

from ansible.module_utils.basic import AnsibleModule

# QEMU's size suffixes; a bare number of -m is MiB.
UNITS = {"": 1 << 20, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
QEMU_DEFAULT_MEMORY = 128 << 20

ARGUMENT_SPEC = dict(
    backend=dict(type="str", choices=["qemu", "xen"]),
    run_dir=dict(type="path"),
    shared_disks=dict(type="list", elements="path"),
    lsm_dmstate=dict(type="str", default="lsm-dmstate"),
)


def qemu_memory(argv):
    """The guest RAM QEMU was started with: -m [size=]N[unit]."""
    value = None
    for option, arg in zip(argv, argv[1:]):
        if option in ("-m", "--m"):
            value = arg
    if value is None:
        return QEMU_DEFAULT_MEMORY
    parts = value.split(",")
    size = next((p[5:] for p in parts if p.startswith("size=")), parts[0])
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([bkmgtBKMGT]?)", size)
    if not m:
        raise ValueError("cannot read the memory size of -m %s" % value)
    return int(float(m.group(1)) * UNITS[m.group(2).lower()])


def detect_backend():
    try:
        with open("/proc/xen/capabilities") as f:
            return "xen" if "control_d" in f.read() else "qemu"
    except OSError:
        return "qemu"


def qemu_domains(run_dir):
    """The names of the QMP sockets RUN/qemu/NAME.qmp."""
    qemu_dir = os.path.join(run_dir, "qemu")
    if not os.path.isdir(qemu_dir):
        return []
    return [entry[: -len(".qmp")] for entry in sorted(os.listdir(qemu_dir))
            if entry.endswith(".qmp")
            and stat.S_ISSOCK(os.lstat(os.path.join(qemu_dir, entry)).st_mode)]


def xen_domains(module):
    """Name -> memory in bytes, from `xl list` (Mem is MiB); a migration's
    own NAME--incoming and NAME--migratedaway are not VMs to move."""
    out = module.run_command(["xl", "list"], check_rc=True)[1]
    names = {}
    for line in out.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 3 or fields[0] == "Domain-0":
            continue
        if fields[0].endswith(("--incoming", "--migratedaway")):
            continue
        names[fields[0]] = int(fields[2]) << 20
    return names


def describe(module, dmstate, backend, run_dir, name, memory):
    p = module.params
    argv = [dmstate, "send", name, "--dry-run", "--backend", backend, "--run-dir", run_dir]
    for path in p["shared_disks"] or []:
        argv += ["--shared-disk", path]
    rc, out, err = module.run_command(argv)
    entry = dict(name=name, memory=memory, disk=0, error=None)
    if rc != 0:
        lines = err.strip().splitlines()
        entry["error"] = lines[-1] if lines else "lsm-dmstate exited with status %d" % rc
        return entry
    vm = json.loads(out)
    entry["disk"] = sum(d["allocated"] for d in vm["disks"] if not d["shared"])
    if memory is None:
        try:
            entry["memory"] = qemu_memory(vm["config"]["argv"])
        except ValueError as e:
            entry["error"] = str(e)
    return entry


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    backend = p["backend"] or detect_backend()
    run_dir = p["run_dir"] or os.environ.get("LSM_RUN_DIR") or "/run/lsm"
    dmstate = p["lsm_dmstate"]
    if "/" not in dmstate:
        dmstate = module.get_bin_path(dmstate, required=True)
    # Xen says each domain's memory; a QEMU VM's is read off its description.
    memory = xen_domains(module) if backend == "xen" else {}
    names = list(memory) if backend == "xen" else qemu_domains(run_dir)
    domains = [describe(module, dmstate, backend, run_dir, name, memory.get(name))
               for name in names]
    module.exit_json(changed=False, backend=backend, domains=domains)


if __name__ == "__main__":
    main()
