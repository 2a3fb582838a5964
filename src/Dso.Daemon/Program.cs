// dso-agent: the DSO agent daemon. Everything it does lives in Dso.Agent; this is its entry.
Dso.Native.ProcessHardening.Apply();
return await Dso.Agent.Hosting.AgentMain.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
