namespace Dso.Injection.Planning;

/// <summary>
/// The argument of an `http:` health probe: `PORT` or `PORT/PATH` (the path as sent, `/` when
/// absent), or the URL form the original project's documents use, `//:PORT/PATH` (the host left
/// out, or `localhost`: the probe always goes to the new container's own address).
/// </summary>
public static class HttpProbe
{
    public static bool TryParse(string argument, out int port, out string path)
    {
        if (argument.StartsWith("//", StringComparison.Ordinal))
        {
            var authority = argument[2..];
            var colon = authority.IndexOf(':', StringComparison.Ordinal);
            var host = colon < 0 ? authority : authority[..colon];
            if (colon < 0 || host is not ("" or "localhost" or "127.0.0.1"))
            {
                port = 0;
                path = "/";
                return false;
            }

            argument = authority[(colon + 1)..];
        }

        var slash = argument.IndexOf('/', StringComparison.Ordinal);
        var portText = slash < 0 ? argument : argument[..slash];
        path = slash < 0 ? "/" : argument[slash..];
        var parsed = int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port);
        return parsed && port is > 0 and <= 65535 && path.All(c => c > ' ' && c < 0x7f && c != '#');
    }
}
