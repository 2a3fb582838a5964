using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>
/// A reference as one service uses it: the variable that holds it, the reference exactly as written
/// (what the container's environment will hold), and where it was written.
/// </summary>
internal sealed record ServiceReference(string Service, string Variable, string Text, SecretReference Reference, string Where)
{
    public override string ToString() => $"{Reference} ({Where}, service {Service}, {Variable})";
}
