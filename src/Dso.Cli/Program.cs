using Dso.Cli;

Dso.Native.ProcessHardening.Apply();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

return await DsoApp.RunAsync(args, CliContext.FromProcess(), cancellation.Token);
