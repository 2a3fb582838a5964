using Dso.Testing;

[assembly: AssemblyFixture(typeof(EngineFixture))]
