namespace Dso.Injection.References;

/// <summary>Some references could not be resolved; <see cref="Problems"/> lists every one (validate prints them all).</summary>
internal sealed class UnresolvedReferencesException(string message, IReadOnlyList<string> problems) : DsoException(message)
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
