namespace Dso.Injection.Secrets;

/// <summary>One file to place in a service's secrets directory: its path there, its bytes, mode and owner.</summary>
internal sealed record SecretFile(string RelativePath, byte[] Content, UnixFileMode Mode, int Uid, int Gid);
