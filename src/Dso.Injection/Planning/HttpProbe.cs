namespace Dso.Injection.Planning;

/// <summary>
/// The argument of an `http:` health probe: `PORT` or `PORT/PATH` (the path as sent, `/` when
/// absent), or the URL form the original project's documents use, `//:PORT/PATH` (the host left
/// out, or `localhost`: the probe always goes to the new container's own address); then, after a
/// space, the statuses that count as healthy: codes and classes separated by commas (`200`,
/// `200,204`, `2xx`). Without them, any 2xx or 3xx answer is healthy.
/// </summary>
public static class HttpProbe
{
    /// <summary>What counts as healthy when the probe names no statuses.</summary>
    public const string DefaultExpect = "2xx,3xx";

    public static bool TryParse(string argument, out int port, out string path) => TryParse(argument, out port, out path, out _);

    public static bool TryParse(string argument, out int port, out string path, out string expect)
    {
        expect = DefaultExpect;
        var space = argument.IndexOf(' ', StringComparison.Ordinal);
        if (space >= 0)
        {
            expect = argument[(space + 1)..].Trim();
            argument = argument[..space];
            if (!expect.Split(',').All(IsStatusSpec))
            {
                port = 0;
                path = "/";
                return false;
            }
        }

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

    /// <summary>Whether <paramref name="status"/> is one of <paramref name="expect"/> (as <see cref="TryParse(string, out int, out string, out string)"/> gives it).</summary>
    public static bool Accepts(string expect, int status) =>
        expect.Split(',').Any(spec => spec.Length == 3 && (spec.EndsWith("xx", StringComparison.Ordinal)
            ? status / 100 == spec[0] - '0'
            : int.Parse(spec, System.Globalization.CultureInfo.InvariantCulture) == status));

    private static bool IsStatusSpec(string spec) =>
        spec.Length == 3 && spec[0] is >= '1' and <= '5' && (spec[1..] == "xx" || (char.IsAsciiDigit(spec[1]) && char.IsAsciiDigit(spec[2])));
}
