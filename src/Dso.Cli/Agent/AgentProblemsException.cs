namespace Dso.Cli.Agent;

/// <summary>The agent could not do what was asked, for the reasons listed (one per reference).</summary>
internal sealed class AgentProblemsException(string message, IReadOnlyList<string> problems) : DsoException(message)
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
