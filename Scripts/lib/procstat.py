"""What the benchmarks read about a process: its CPU and memory from /proc while it runs, and its
exact CPU once it has ended (wait4)."""
import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU of a live process, from /proc/PID/stat (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def status_kib(pid, field="VmHWM"):
    """A field of /proc/PID/status in KiB: VmHWM (peak resident) by default, or VmRSS (0 once the
    process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_with_usage(proc):
    """Waits for a child (a subprocess.Popen) and returns the CPU seconds it and the children it
    waited for used. Nothing else may reap it first (no poll() while it runs)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime
