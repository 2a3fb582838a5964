using Dso.Processes;

namespace Dso.Agent.Tests;

/// <summary>
/// A group for an agent socket and two users made for one test with groupadd/useradd (one in the
/// group, one outside it), removed again on dispose; commands run as them through setpriv.
/// </summary>
internal sealed class SocketUsers : IAsyncDisposable
{
    private SocketUsers(string prefix)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        Group = $"{prefix}g{suffix}";
        Outsider = $"{prefix}o{suffix}";
        Member = $"{prefix}m{suffix}";
    }

    public string Group { get; }

    public string Outsider { get; }

    public string Member { get; }

    /// <param name="prefix">A short prefix for the names (group and user names stay under 32 characters).</param>
    public static async Task<SocketUsers> CreateAsync(string prefix)
    {
        var users = new SocketUsers(prefix);
        await Run("groupadd", users.Group);
        await Run("useradd", "--no-create-home", "--no-user-group", "--shell", "/usr/sbin/nologin", users.Outsider);
        await Run("useradd", "--no-create-home", "--no-user-group", "--shell", "/usr/sbin/nologin", "--groups", users.Group, users.Member);
        return users;
    }

    /// <summary>setpriv's arguments that run <paramref name="command"/> as <paramref name="user"/> with that user's groups.</summary>
    public static string[] Setpriv(string user, params string[] command) => ["--reuid", user, "--regid", "nogroup", "--init-groups", .. command];

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.RunAsync("userdel", [Outsider]);
        await ChildProcess.RunAsync("userdel", [Member]);
        await ChildProcess.RunAsync("groupdel", [Group]);
    }

    private static async Task Run(string program, params string[] args)
    {
        var result = await ChildProcess.RunAsync(program, args);
        Assert.True(result.Succeeded, $"{program} {string.Join(' ', args)}: {result.StandardError}");
    }
}
