using Dso.Fakes;
using Dso.Testing;

namespace Dso.Providers.Tests;

/// <summary>
/// Every cloud provider against its fake answering slowly, with a body far over any sane size, or
/// with something that is not its API: the call fails as transient (so last-known-good values
/// stand in and the breaker counts it), names no value, and the next call after the fault is
/// served by the same configuration.
/// </summary>
public sealed class CloudFaultTests
{
    public static TheoryData<string, string> Cases => new(
        from type in CloudFake.Types
        from fault in new[] { "slow", "oversized", "garbage" }
        select (type, fault));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ABrokenAnswer_IsATransientFailure_AndTheProviderRecovers(string type, string fault)
    {
        using var dir = new TempDirectory();
        await using var fake = await CloudFake.StartAsync(type, dir.Path);
        fake.Put(fake.Secret, "never-shown-9f4");
        using var providers = new ConfiguredProviders(dir, "providers:\n" + fake.Section("cloud") + "    timeout: 10s\n    retry:\n      attempts: 1\n", new(fake.Environment));
        var provider = providers["cloud"];
        var first = (await provider.ResolveAsync(fake.Secret))[0];
        Assert.True(first.Value == "never-shown-9f4", first.Error);

        fake.Secrets.Inject(fault switch
        {
            "slow" => new Fault(FaultKind.Slow, Delay: TimeSpan.FromSeconds(15)),
            "oversized" => new Fault(FaultKind.Oversized),
            _ => new Fault(FaultKind.Garbage),
        });
        var broken = (await provider.ResolveAsync(fake.Secret))[0];
        fake.Secrets.Inject(null);
        var recovered = (await provider.ResolveAsync(fake.Secret))[0];

        Assert.Null(broken.Value);
        Assert.True(broken.Transient, broken.Error);
        Assert.DoesNotContain("never-shown", broken.Error, StringComparison.Ordinal);
        Assert.True(recovered.Value == "never-shown-9f4", recovered.Error);
    }
}
