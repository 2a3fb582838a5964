using System.Collections;
using System.Text;

namespace Dso.Launcher;

/// <summary>dso-init's own environment as raw "NAME=value" byte strings, exactly as the kernel passed them.</summary>
internal static class ProcessEnvironment
{
    public static List<byte[]> Read()
    {
        try
        {
            // /proc/self/environ holds the initial environment byte for byte (values need not be UTF-8).
            var raw = File.ReadAllBytes("/proc/self/environ");
            return [.. Split(raw)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var list = new List<byte[]>();
            foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            {
                list.Add(Encoding.UTF8.GetBytes($"{entry.Key}={entry.Value}"));
            }

            return list;
        }
    }

    private static IEnumerable<byte[]> Split(byte[] raw)
    {
        var start = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            if (raw[i] == 0)
            {
                if (i > start)
                {
                    yield return raw[start..i];
                }

                start = i + 1;
            }
        }

        if (start < raw.Length)
        {
            yield return raw[start..];
        }
    }
}
