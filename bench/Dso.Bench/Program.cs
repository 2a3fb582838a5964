using BenchmarkDotNet.Running;
using Dso.Bench;

// `bench/run` runs every BenchmarkDotNet suite; pass BenchmarkDotNet arguments (e.g. --filter '*Vault*') to pick.
// `agent-scenario OUT_DIR SOAK_MINUTES` runs the whole-process agent scenario instead (bench/run --only agent),
// `rotation-scenario OUT_DIR` the rotation one (bench/run --only rotation), `proxy-scenario OUT_DIR` the proxy's
// paths (bench/run --only proxy, in an engine with --userland-proxy=false), `provider-calls-scenario OUT_DIR`
// the provider calls per hour (bench/run --only providers).
if (args is ["agent-scenario", var output, var minutes])
{
    return await AgentScenario.RunAsync(output, double.Parse(minutes, System.Globalization.CultureInfo.InvariantCulture));
}

if (args is ["rotation-scenario", var rotationOutput])
{
    return await RotationScenario.RunAsync(rotationOutput);
}

if (args is ["proxy-scenario", var proxyOutput])
{
    return await ProxyScenario.RunAsync(proxyOutput);
}

if (args is ["provider-calls-scenario", var callsOutput])
{
    return await ProviderCallsScenario.RunAsync(callsOutput);
}

BenchmarkSwitcher.FromAssembly(typeof(AgentScenario).Assembly).Run(args);
return 0;
