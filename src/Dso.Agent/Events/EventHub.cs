using System.Threading.Channels;
using Dso.Ipc;

namespace Dso.Agent.Events;

/// <summary>
/// Fans agent events out to every live subscriber (`docker dso watch`, /v1/events). A slow
/// subscriber loses its oldest events rather than slowing the agent down. Messages are redacted.
/// </summary>
internal sealed class EventHub(TimeProvider time, Observability.SecretRedactor redactor)
{
    private readonly Lock _gate = new();
    private readonly List<Channel<AgentEvent>> _subscribers = [];

    public int SubscriberCount
    {
        get
        {
            lock (_gate)
            {
                return _subscribers.Count;
            }
        }
    }

    public void Publish(string type, string? project, string? service, string message)
    {
        var item = new AgentEvent(time.GetUtcNow(), type, project, service, redactor.Redact(message));
        lock (_gate)
        {
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(item);
            }
        }
    }

    /// <summary>Events published from now until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<AgentEvent> SubscribeAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<AgentEvent>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate)
        {
            _subscribers.Add(channel);
        }

        try
        {
            while (true)
            {
                AgentEvent item;
                try
                {
                    item = await channel.Reader.ReadAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }

                yield return item;
            }
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
