using Dso.Secrets;
using Dso.Vault;

// Usage: dso-vault-writer VAULT KEYFILE PREFIX COUNT
// Opens the vault once, then writes PREFIX/0 … PREFIX/COUNT-1 one write each, printing
// "ok NAME" after each write is durable. Exits 0 when all are written.
if (args.Length != 4 || !int.TryParse(args[3], out var count))
{
    Console.Error.WriteLine("usage: dso-vault-writer VAULT KEYFILE PREFIX COUNT");
    return 2;
}

using var vault = LocalVault.Open(args[0], _ => KeyFile.Read(args[1]));
for (var i = 0; i < count; i++)
{
    var name = $"{args[2]}/{i}";
    using var value = SecretValue.FromString($"value-of-{name}");
    vault.Set(name, value);
    Console.Out.WriteLine($"ok {name}");
    Console.Out.Flush();
}

return 0;
