using System.CommandLine;
using System.Security.Cryptography;
using Dso.Cli.Vault;
using Dso.Secrets;

namespace Dso.Cli.Commands.Secret;

/// <summary>
/// `docker dso secret set NAME`: the value comes from --from-file (exact bytes), from stdin when it
/// is piped (one trailing newline removed), or from a hidden prompt — never from the command line.
/// </summary>
internal sealed class SecretSetCommand : DsoCommand
{
    private const int MaxValueBytes = 1024 * 1024;

    private readonly Argument<string> _name = SecretCommand.NameArgument();
    private readonly Option<string?> _fromFile = new("--from-file") { Description = "Read the value from this file, byte for byte.", HelpName = "FILE" };

    private readonly Option<bool> _json = JsonOption("Print what was stored (name, version, created, changed) as JSON; never the value.");

    public SecretSetCommand(CliContext context)
        : base(context, "set", "Store a secret (value from a hidden prompt, piped stdin, or --from-file; never from arguments).")
    {
        Arguments.Add(_name);
        Options.Add(_fromFile);
        Options.Add(_json);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var name = SecretName.Validate(parseResult.GetValue(_name)!);
        var access = new VaultAccess(Context);
        using var vault = access.Open();
        using var value = await ReadValueAsync(name, parseResult.GetValue(_fromFile), cancellationToken);
        var outcome = vault.Set(name, value);
        if (parseResult.GetValue(_json))
        {
            Context.Out.WriteLine(CliJson.Serialize(new SecretWriteJson(outcome.Name, outcome.Version, outcome.Created, outcome.Changed)));
            return ExitCodes.Success;
        }

        Context.Out.WriteLine(outcome.Changed
            ? $"{(outcome.Created ? "Created" : "Updated")} {name} (version {outcome.Version})."
            : $"{name} already had this value; still version {outcome.Version}.");
        return ExitCodes.Success;
    }

    private async Task<SecretValue> ReadValueAsync(string name, string? fromFile, CancellationToken cancellationToken)
    {
        if (fromFile is not null)
        {
            var path = Path.GetFullPath(fromFile, Context.WorkingDirectory);
            if (!File.Exists(path))
            {
                throw new DsoException($"--from-file {path}: no such file");
            }

            if (new FileInfo(path).Length > MaxValueBytes)
            {
                throw new DsoException($"--from-file {path} is larger than the 1 MiB limit for a secret");
            }

            return Owned(await File.ReadAllBytesAsync(path, cancellationToken), keep: null);
        }

        if (!Context.InputIsTerminal)
        {
            var buffer = new byte[MaxValueBytes + 3];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await Context.StandardInput.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }

            var keep = length;
            if (keep > 0 && buffer[keep - 1] == '\n')
            {
                keep--;
                if (keep > 0 && buffer[keep - 1] == '\r')
                {
                    keep--;
                }
            }

            if (keep > MaxValueBytes)
            {
                CryptographicOperations.ZeroMemory(buffer);
                throw new DsoException("the value on stdin is larger than the 1 MiB limit for a secret");
            }

            return Owned(buffer, keep);
        }

        var typed = Context.ReadHidden($"Value for {name}: ")
            ?? throw new DsoException("no value: pipe it on stdin, use --from-file, or run in a terminal to be asked");
        return SecretValue.FromString(typed);
    }

    private static SecretValue Owned(byte[] bytes, int? keep)
    {
        try
        {
            return SecretValue.FromBytes(bytes.AsSpan(0, keep ?? bytes.Length));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }
}
