namespace Dso.Native;

/// <summary>
/// What every DSO executable does first: it makes itself non-dumpable (prctl PR_SET_DUMPABLE 0).
/// Its /proc entries then belong to root and ptrace by the same user is refused, so a child it
/// starts (compose, docker, a plugin) — or any other process of the same user — cannot read its
/// environment (`/proc/PID/environ`, where DSO_PASSPHRASE may be) or its memory (the unlocked vault
/// key), and it leaves no core dump.
/// </summary>
public static class ProcessHardening
{
    public static void Apply() => _ = Libc.Prctl(Libc.PrSetDumpable, 0, 0, 0, 0);
}
