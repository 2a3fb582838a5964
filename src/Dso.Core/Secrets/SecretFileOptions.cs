namespace Dso.Secrets;

/// <summary>
/// The query of a `dsofile://` reference: `mode` (octal, default 0400), `uid` and `gid` (default:
/// the service's user when numeric, else root), `name` (default: the path's last segment).
/// </summary>
public sealed record SecretFileOptions(int? Mode, int? Uid, int? Gid, string? Name)
{
    public static SecretFileOptions None { get; } = new(null, null, null, null);

    public bool IsEmpty => Mode is null && Uid is null && Gid is null && Name is null;
}
