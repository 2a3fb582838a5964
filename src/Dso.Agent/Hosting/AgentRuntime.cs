namespace Dso.Agent.Hosting;

/// <summary>Facts about this agent process: when it started and whether its first pass is done.</summary>
internal sealed class AgentRuntime(AgentOptions options, TimeProvider time)
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AgentOptions Options => options;

    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public bool IsReady => _ready.Task.IsCompleted;

    public Task Ready => _ready.Task;

    public void MarkReady() => _ready.TrySetResult();
}
