using Dso.Launcher;

// dso-init [--dir DIR] [--] PROGRAM ARGS…
// Silent on success (the process becomes PROGRAM); one line and exit 127 on any problem.
try
{
    Exec.Run(LaunchPlan.Create(args, ProcessEnvironment.Read()));
    return 127;
}
catch (LaunchException e)
{
    Console.Error.WriteLine($"dso-init: {e.Message}");
    return 127;
}
