using System.CommandLine;
using System.Text;
using System.Text.Json;
using Dso.Notifications;
using Dso.Configuration;

namespace Dso.Cli.Commands;

/// <summary>`docker dso notifications test`: posts a test message to every `notifications.webhooks` target of dso.yaml.</summary>
internal static class NotificationsCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("notifications", "Check the notification webhooks of dso.yaml.");
        command.Subcommands.Add(new NotificationsTestCommand(context));
        return command;
    }
}

/// <summary>
/// Sends one `{"event":"test",…}` (or, for `format: slack`, a `{"text": …}`) to each target, signed
/// and retried as the agent's notifications are, and reports each result. Exit 1 when any failed.
/// </summary>
internal sealed class NotificationsTestCommand : DsoCommand
{
    private readonly Option<bool> _json = JsonOption("Print each target's result as JSON.");

    public NotificationsTestCommand(CliContext context)
        : base(context, "test", "Post a test notification to every webhook in notifications.webhooks, signed and retried as the agent does, and report each result.")
    {
        Options.Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var loaded = ConfigLoader.Load(Context.ConfigPath, Context.GetEnvironmentVariable, Context.WorkingDirectory);
        var targets = loaded.Config.Notifications.Webhooks;
        if (targets.Count == 0)
        {
            throw new DsoException($"{loaded.Path ?? "no dso.yaml was found"}: notifications.webhooks is empty; add a target (url, format, on, secret) first, see docs/configuration.md");
        }

        var host = Environment.MachineName;
        var now = TimeProvider.System.GetUtcNow();
        using var sender = new NotificationSender(TimeProvider.System);
        var results = new List<NotificationTestResult>();
        foreach (var target in targets)
        {
            var body = target.Format == "slack"
                ? JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = $":bell: DSO test notification from {host}: this target receives {(target.On == "all" ? "every rotation and circuit change" : "failed rotations and open circuits")}" }, NotificationJson.Default.DictionaryStringString)
                : JsonSerializer.Serialize(new TestNotification("test", "DSO test notification", host, now), NotificationJson.Default.TestNotification);
            var outcome = await sender.SendAsync(target, Encoding.UTF8.GetBytes(body), cancellationToken);
            results.Add(new NotificationTestResult(NotificationSender.Display(target), target.Format, target.On, !string.IsNullOrEmpty(target.Secret), outcome.Sent, outcome.Attempts, outcome.Error));
        }

        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(results));
        }
        else
        {
            TextTable.Write(Context, ["TARGET", "FORMAT", "ON", "SIGNED", "RESULT"], results.Select(r => new[]
            {
                r.Target, r.Format, r.On, r.Signed ? "yes" : "no",
                r.Sent ? $"sent ({r.Attempts} attempt{(r.Attempts == 1 ? string.Empty : "s")})" : $"FAILED after {r.Attempts} attempt{(r.Attempts == 1 ? string.Empty : "s")}: {r.Error}",
            }));
        }

        var failed = results.Count(r => !r.Sent);
        if (failed > 0)
        {
            Context.Error.WriteLine($"dso: {failed} of {results.Count} notification targets failed; check each url and that it accepts a POST of JSON");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }
}

/// <summary>One row of `notifications test`: the target named by scheme, host and port only (its path may hold a token).</summary>
internal sealed record NotificationTestResult(string Target, string Format, string On, bool Signed, bool Sent, int Attempts, string? Error);
