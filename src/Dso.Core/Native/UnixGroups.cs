namespace Dso.Native;

/// <summary>Group ids by name, from /etc/group (the socket group, the `dso` group).</summary>
public static class UnixGroups
{
    /// <summary>The group's id, or null when there is no such group.</summary>
    public static uint? LookUp(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/group"))
            {
                var fields = line.Split(':');
                if (fields.Length >= 3 && fields[0] == name && uint.TryParse(fields[2], out var gid))
                {
                    return gid;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }
}
