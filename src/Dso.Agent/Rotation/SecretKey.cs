namespace Dso.Agent.Rotation;

/// <summary>A secret the detector watches: its provider and path (a pinned version never changes, so it is not watched).</summary>
internal readonly record struct SecretKey(string Provider, string Path)
{
    public override string ToString() => $"{Provider}:{Path}";
}
