namespace Dso.Cli.Doctor;

/// <summary>`doctor --json`.</summary>
internal sealed record DoctorReport(IReadOnlyList<DoctorCheck> Checks, int Passed, int Warnings, int Failures);
