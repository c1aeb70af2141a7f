# Filters of ansible/evacuate.yml: what each target has room for, which
# target each VM goes to, and what became of each VM. Plain functions of
# plain data, so the placement can be checked without any host.

MIB = 1 << 20


def mib(n):
    return "%d MiB" % (n // MIB)


def lsm_rooms(probes):
    """The registered results of the playbook's probe loop -> one entry per
    target: its free memory and disk in bytes, or the error that makes it
    unusable. The probe prints lines `NAME COUNT UNIT` (memory, disk)."""
    rooms = []
    for probe in probes:
        target = probe["item"]
        figures = {}
        for line in probe.get("stdout", "").splitlines():
            words = line.split()
            if len(words) == 3 and words[1].isdigit() and words[2].isdigit():
                figures[words[0]] = int(words[1]) * int(words[2])
        room = dict(target=target, memory=figures.get("memory"), disk=figures.get("disk"),
                    error=None)
        if probe.get("rc") != 0:
            said = probe.get("stderr", "").strip().splitlines()
            # Ansible's msg alone ("non-zero return code") would hide whether
            # ssh failed (255) or a signal ended it (negative).
            room["error"] = said[-1] if said else \
                "the probe over ssh exited with status %s, printing nothing on stderr (%s)" % \
                (probe.get("rc"), probe.get("msg"))
        elif None in (room["memory"], room["disk"]):
            room["error"] = "its answer holds no free memory and disk figures: %r" % \
                probe.get("stdout")
        if room["error"] is not None:
            room["msg"] = "target %s cannot be used: %s" % (target, room["error"])
        else:
            room["msg"] = "target %s: %s of memory and %s of disk free" % (
                target, mib(room["memory"]), mib(room["disk"]))
        rooms.append(room)
    return rooms


def lsm_place(domains, rooms, memory_reserve_mib=0):
    """Each VM -> the usable target with the most free memory (then disk)
    that holds it, counting what the VMs placed before it take there. The
    biggest VMs are placed first, while there is most room. A VM that fits
    nowhere, or that lsm refused to describe, gets no target and a reason."""
    left = {r["target"]: [r["memory"] - memory_reserve_mib * MIB, r["disk"]]
            for r in rooms if r["error"] is None}
    plan = {}
    for vm in sorted(domains, key=lambda d: (d["memory"] or 0, d["disk"]), reverse=True):
        entry = dict(domain=vm["name"], target=None, memory=vm["memory"], disk=vm["disk"],
                     reason=vm["error"])
        if entry["reason"] is None:
            fits = [t for t, (memory, disk) in left.items()
                    if memory >= vm["memory"] and disk >= vm["disk"]]
            if fits:
                target = max(fits, key=lambda t: left[t])
                left[target][0] -= vm["memory"]
                left[target][1] -= vm["disk"]
                entry["target"] = target
            else:
                entry["reason"] = "no target has room for it: it needs %s of memory and %s of disk; %s" % (
                    mib(vm["memory"]), mib(vm["disk"]),
                    ", ".join("%s has %s and %s left" % (t, mib(max(m, 0)), mib(d))
                              for t, (m, d) in left.items()) or "no target is usable")
        plan[vm["name"]] = entry
    return [plan[vm["name"]] for vm in domains]


def lsm_outcomes(evacuees):
    """The hostvars of the playbook's per-VM hosts -> what became of each VM:
    moved, would move (check mode), stayed (it runs on the source), or
    unknown (only `lsm-migrate.sh --recover` can tell)."""
    outcomes = []
    for host in evacuees:
        plan, result = host["lsm_plan"], host.get("lsm_result", {})
        entry = dict(domain=plan["domain"], target=plan["target"], start=result.get("start"),
                     end=result.get("end"), summary=result.get("summary"))
        if plan["target"] is None:
            entry.update(outcome="stayed",
                         msg="%s was not moved: %s" % (plan["domain"], plan["reason"]))
        elif result.get("failed"):
            stayed = result.get("location") == "source"
            entry.update(outcome="stayed" if stayed else "unknown", msg=result.get("msg"))
        else:
            entry.update(outcome="moved" if result.get("changed") else "would move",
                         msg=result.get("msg"))
        outcomes.append(entry)
    return outcomes


class FilterModule:
    def filters(self):
        return dict(lsm_rooms=lsm_rooms, lsm_place=lsm_place, lsm_outcomes=lsm_outcomes)
