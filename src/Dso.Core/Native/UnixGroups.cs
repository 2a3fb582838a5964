namespace Dso.Native;

/// <summary>Groups by name and by id, from /etc/group (the socket group, the `dso` group).</summary>
public static class UnixGroups
{
    /// <summary>The group's id, or null when there is no such group.</summary>
    public static uint? LookUp(string name) => Entries().Where(e => e.Name == name).Select(e => (uint?)e.Gid).FirstOrDefault();

    /// <summary>The group's name, or null when /etc/group has no group with this id.</summary>
    public static string? NameOf(uint gid) => Entries().Where(e => e.Gid == gid).Select(e => e.Name).FirstOrDefault();

    private static IEnumerable<(string Name, uint Gid)> Entries()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/etc/group");
        }
        catch (IOException)
        {
            yield break;
        }

        foreach (var line in lines)
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && uint.TryParse(fields[2], out var gid))
            {
                yield return (fields[0], gid);
            }
        }
    }
}
