namespace Dso.Secrets;

/// <summary>
/// Docker's own runtime secret references (the Docker Secrets Engine): `se://ID` in a compose
/// file's environment, where an id is slash-separated components of letters, digits, '.', '_',
/// ':' and '-' (`docker/db/password`). A pattern is an id whose components may also be `*` (exactly
/// one component) or `**` (any number of components, none included); a component is either a
/// wildcard or literal, never both (`db*` is not a pattern).
/// </summary>
public static class SecretsEngineId
{
    public const string Scheme = "se://";

    /// <summary>True when <paramref name="text"/> starts with `se://` (and so must be a valid id).</summary>
    public static bool IsReference(string? text) => text is not null && text.StartsWith(Scheme, StringComparison.Ordinal);

    /// <summary>The id of `se://ID`, or a one-line problem.</summary>
    public static bool TryParseReference(string text, out string id, out string problem)
    {
        if (!IsReference(text))
        {
            id = string.Empty;
            problem = "it must start with se://";
            return false;
        }

        id = text[Scheme.Length..];
        problem = Problem(id, wildcards: false) ?? string.Empty;
        return problem.Length == 0;
    }

    /// <summary>Null when <paramref name="id"/> is a valid id, else what is wrong with it.</summary>
    public static string? IdProblem(string id) => Problem(id, wildcards: false);

    /// <summary>Null when <paramref name="pattern"/> is a valid pattern, else what is wrong with it.</summary>
    public static string? PatternProblem(string pattern) => Problem(pattern, wildcards: true);

    /// <summary>True when the pattern has a `*` or `**` component (it may match more than one id).</summary>
    public static bool HasWildcard(string pattern) => pattern.Contains('*', StringComparison.Ordinal);

    /// <summary>Whether the valid id <paramref name="id"/> is matched by the valid pattern <paramref name="pattern"/>.</summary>
    /// <remarks>Table matching, in time proportional to the pattern's components times the id's, however many `**` it has.</remarks>
    public static bool Matches(string pattern, string id)
    {
        var wanted = pattern.Split('/');
        var parts = id.Split('/');

        // matched[i]: the pattern's first p components match the id's first i.
        var matched = new bool[parts.Length + 1];
        matched[0] = true;
        foreach (var component in wanted)
        {
            var next = new bool[parts.Length + 1];
            for (var i = 0; i <= parts.Length; i++)
            {
                next[i] = component == "**"
                    ? matched[i] || (i > 0 && next[i - 1])
                    : i > 0 && matched[i - 1] && (component == "*" || component == parts[i - 1]);
            }

            matched = next;
        }

        return matched[parts.Length];
    }

    /// <summary>How many leading components of the pattern are literal (before its first wildcard).</summary>
    public static int LiteralComponents(string pattern) => pattern.Split('/').TakeWhile(c => !c.Contains('*', StringComparison.Ordinal)).Count();

    private static string? Problem(string text, bool wildcards)
    {
        var what = wildcards ? "pattern" : "id";
        if (text.Length == 0)
        {
            return $"the {what} is empty";
        }

        if (text.Length > 512)
        {
            return $"the {what} is longer than 512 characters";
        }

        var components = text.Split('/');
        if (components.Length > 32)
        {
            return $"the {what} has {components.Length} components; at most 32";
        }

        foreach (var component in components)
        {
            if (component.Length == 0)
            {
                return $"the {what} '{SecretReference.Printable(text)}' has an empty component (a leading, trailing or doubled '/')";
            }

            if (wildcards && component.Contains('*', StringComparison.Ordinal))
            {
                if (component is not ("*" or "**"))
                {
                    return $"the pattern '{SecretReference.Printable(text)}' has the component '{SecretReference.Printable(component)}'; a wildcard is a whole component, * (one) or ** (any number)";
                }

                continue;
            }

            foreach (var c in component)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
                {
                    return $"the {what} '{SecretReference.Printable(text)}' has the character '{SecretReference.Printable(c.ToString())}'; ids use letters, digits, '.', '_', ':', '-' and '/'{(wildcards ? string.Empty : " (no wildcards)")}";
                }
            }
        }

        return null;
    }
}
