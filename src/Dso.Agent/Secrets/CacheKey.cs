namespace Dso.Agent.Secrets;

/// <summary>A secret as its provider knows it.</summary>
internal readonly record struct CacheKey(string Provider, string Path, string? Version);
