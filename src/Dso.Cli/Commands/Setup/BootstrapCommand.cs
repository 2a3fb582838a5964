using System.CommandLine;

namespace Dso.Cli.Commands.Setup;

/// <summary>`docker dso bootstrap agent [--provider P] [--non-interactive]`: agent mode on this host, see <see cref="AgentBootstrap"/>.</summary>
internal static class BootstrapCommand
{
    public static Command Create(CliContext context) => new("bootstrap", "Set up a mode of DSO on this host in one step.")
    {
        new BootstrapAgentCommand(context),
    };

    private sealed class BootstrapAgentCommand : DsoCommand
    {
        private readonly Option<string?> _provider = new("--provider") { Description = "The provider the agent reads: local, aws, vault, azure, huawei (default: detected from AWS_REGION, VAULT_ADDR, AZURE_KEYVAULT_URL, HUAWEICLOUD_REGION, else asked, else local).", HelpName = "TYPE" };
        private readonly Option<bool> _nonInteractive = new("--non-interactive") { Description = "Ask nothing: take --provider or what the environment says, else the local vault." };

        public BootstrapAgentCommand(CliContext context)
            : base(context, "agent", "Install and start the agent as a systemd service (system install) and write its provider into /etc/dso/dso.yaml.")
        {
            Options.Add(_provider);
            Options.Add(_nonInteractive);
            _provider.AcceptOnlyFromAmong([.. AgentBootstrap.ProviderTypes]);
        }

        protected override Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken) =>
            new AgentBootstrap(Context).RunAsync(parseResult.GetValue(_provider), !parseResult.GetValue(_nonInteractive) && Context.InputIsTerminal, cancellationToken);
    }
}
