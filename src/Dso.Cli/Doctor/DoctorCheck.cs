namespace Dso.Cli.Doctor;

/// <summary>One check of `docker dso doctor`: an id, a verdict (pass, warn, fail), what was found, and how to fix it.</summary>
internal sealed record DoctorCheck(string Id, string Verdict, string Detail, string? Fix)
{
    public static DoctorCheck Pass(string id, string detail) => new(id, "pass", detail, null);

    public static DoctorCheck Warn(string id, string detail, string fix) => new(id, "warn", detail, fix);

    public static DoctorCheck Fail(string id, string detail, string fix) => new(id, "fail", detail, fix);
}
