namespace Dso.Ipc;

/// <summary>Any failed IPC or REST call: one line, and for resolution failures every problem.</summary>
internal sealed record ErrorResponse(string Error, IReadOnlyList<string>? Problems = null);
