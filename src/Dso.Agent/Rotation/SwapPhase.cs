namespace Dso.Agent.Rotation;

/// <summary>
/// The steps of a container swap (spec 6), each journaled before it is taken. <see cref="SwapPhases.Order"/>
/// gives each mode's sequence; a swap whose last journaled step comes before <see cref="Switch"/>
/// is undone on recovery, one at or after it is finished.
/// </summary>
internal enum SwapPhase
{
    /// <summary>The new generation of secrets is written beside the old; nothing else changed yet.</summary>
    Begin,

    /// <summary>The service's `current` link moves to the new generation (new containers mount it; running ones keep theirs).</summary>
    Activate,

    /// <summary>The old containers are stopped: first for `restart`, after the drain grace for `rolling`.</summary>
    StopOld,

    /// <summary>The new containers are created under temporary names (`NAME-dso-next-ID`).</summary>
    Create,

    /// <summary>The new containers are started; then the agent waits for them to be healthy.</summary>
    Start,

    /// <summary>The new containers are healthy and the proxy sends new connections to them: from here on a swap is finished, never undone.</summary>
    Switch,

    /// <summary>The old containers are renamed `NAME-dso-prev-ID`.</summary>
    RenameOld,

    /// <summary>The new containers take the original names.</summary>
    RenameNew,

    /// <summary>The old containers are removed (their anonymous volumes are kept: the new ones use them).</summary>
    RemoveOld,

    /// <summary>The old generation of secrets is overwritten and removed.</summary>
    Cleanup,

    /// <summary>The swap is over (finished or undone).</summary>
    Done,
}

/// <summary>The order of the phases for each mode.</summary>
internal static class SwapPhases
{
    public const string Rolling = "rolling";
    public const string Restart = "restart";

    private static readonly SwapPhase[] RollingOrder =
        [SwapPhase.Begin, SwapPhase.Activate, SwapPhase.Create, SwapPhase.Start, SwapPhase.Switch, SwapPhase.RenameOld, SwapPhase.RenameNew, SwapPhase.StopOld, SwapPhase.RemoveOld, SwapPhase.Cleanup, SwapPhase.Done];

    private static readonly SwapPhase[] RestartOrder =
        [SwapPhase.Begin, SwapPhase.Activate, SwapPhase.StopOld, SwapPhase.Create, SwapPhase.Start, SwapPhase.Switch, SwapPhase.RenameOld, SwapPhase.RenameNew, SwapPhase.RemoveOld, SwapPhase.Cleanup, SwapPhase.Done];

    public static IReadOnlyList<SwapPhase> Order(string mode) => mode == Rolling ? RollingOrder : RestartOrder;

    /// <summary>True once the swap is past the point of no return (the new containers were healthy and took the traffic).</summary>
    public static bool IsCommitted(string mode, SwapPhase phase)
    {
        var order = Order(mode);
        return Array.IndexOf([.. order], phase) >= Array.IndexOf([.. order], SwapPhase.Switch);
    }
}
