namespace Dso.Launcher;

/// <summary>Why dso-init cannot start the application: one line, never a secret value.</summary>
internal sealed class LaunchException(string message) : Exception(message);
