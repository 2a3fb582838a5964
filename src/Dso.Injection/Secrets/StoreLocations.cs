namespace Dso.Injection.Secrets;

/// <summary>The system directories <see cref="SecretStore.Locate(System.Func{string, string?})"/> tries: root's RAM directory and the shared-memory file system.</summary>
internal sealed record StoreLocations(string RootDirectory, string SharedMemory)
{
    public static StoreLocations Default { get; } = new("/run/dso/secrets", "/dev/shm");
}
