namespace Dso.Injection.Planning;

/// <summary>The argument of an `http:` health probe: `PORT` or `PORT/PATH` (the path as sent, `/` when absent).</summary>
public static class HttpProbe
{
    public static bool TryParse(string argument, out int port, out string path)
    {
        var slash = argument.IndexOf('/', StringComparison.Ordinal);
        var portText = slash < 0 ? argument : argument[..slash];
        path = slash < 0 ? "/" : argument[slash..];
        var parsed = int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port);
        return parsed && port is > 0 and <= 65535 && path.All(c => c > ' ' && c < 0x7f && c != '#');
    }
}
