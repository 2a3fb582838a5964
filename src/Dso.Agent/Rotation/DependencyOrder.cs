namespace Dso.Agent.Rotation;

/// <summary>
/// Orders the services of one project that rotate together so that a service comes after those it
/// `depends_on` (spec 6); ties and cycles fall back to name order.
/// </summary>
internal static class DependencyOrder
{
    public static IReadOnlyList<string> Sort(IEnumerable<string> services, Func<string, IReadOnlyList<string>> dependsOn)
    {
        var pending = new SortedSet<string>(services, StringComparer.Ordinal);
        var ordered = new List<string>();
        while (pending.Count > 0)
        {
            var ready = pending.FirstOrDefault(s => !dependsOn(s).Any(pending.Contains)) ?? pending.Min!;
            ordered.Add(ready);
            pending.Remove(ready);
        }

        return ordered;
    }
}
