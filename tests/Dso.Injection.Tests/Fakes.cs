using Dso.Injection.Engine;
using Dso.Providers;
using Dso.Secrets;

namespace Dso.Injection.Tests;

/// <summary>Images by name, as the engine would describe them.</summary>
internal sealed class FakeImages(Dictionary<string, ImageConfig> images) : IImageInspector
{
    public List<string> Inspected { get; } = [];

    public Task<ImageConfig?> InspectAsync(string image, CancellationToken cancellationToken)
    {
        Inspected.Add(image);
        return Task.FromResult(images.GetValueOrDefault(image));
    }
}

/// <summary>A provider holding fixed values; counts its calls.</summary>
internal sealed class FakeProvider(string name, Dictionary<string, string> values) : ISecretProvider
{
    public int Calls { get; private set; }

    public string Name => name;

    public Task<IReadOnlyList<ResolvedSecret>> ResolveAsync(IReadOnlyList<SecretRequest> requests, CancellationToken cancellationToken)
    {
        Calls++;
        return Task.FromResult<IReadOnlyList<ResolvedSecret>>([.. requests.Select(r => values.TryGetValue(r.Path, out var v)
            ? ResolvedSecret.Found(SecretValue.FromString(v))
            : ResolvedSecret.Missing($"no secret named {r.Path}"))]);
    }
}
