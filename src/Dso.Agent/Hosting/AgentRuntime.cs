namespace Dso.Agent.Hosting;

/// <summary>Facts about this agent process: when it started and whether its first pass is done.</summary>
internal sealed class AgentRuntime(AgentOptions options, TimeProvider time)
{
    private volatile AgentOptions _options = options;

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The settings in use: those a reload of dso.yaml may change (agent.watch) are read here at each use.</summary>
    public AgentOptions Options => _options;

    internal void Apply(AgentOptions next) => _options = next;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public bool IsReady => _ready.Task.IsCompleted;

    public Task Ready => _ready.Task;

    public void MarkReady() => _ready.TrySetResult();
}
