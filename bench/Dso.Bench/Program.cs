using BenchmarkDotNet.Running;

// `bench/run` runs every benchmark; pass BenchmarkDotNet arguments (e.g. --filter '*Vault*') to pick.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
