using Dso.Injection.Compose;
using Dso.Injection.Migration;

namespace Dso.Injection.References;

/// <summary>
/// Finds values that look like secrets but are not references: a variable named like a secret
/// (PASSWORD, TOKEN, API_KEY, …) holding a literal value, and a mistyped reference (`dso:/x`,
/// `dsofile:x`) that would reach the application as literal text.
/// </summary>
internal static class PlaintextFinder
{
    public static IEnumerable<(bool Mistyped, string Message)> Find(ComposeProject project)
    {
        foreach (var service in project.ActiveServices)
        {
            foreach (var (variable, entry) in service.EffectiveEnvironment)
            {
                var value = entry.Value;
                if (string.IsNullOrEmpty(value) || Dso.Secrets.SecretReference.IsReference(value))
                {
                    continue;
                }

                if (SecretHeuristics.IsMistypedReference(value))
                {
                    yield return (true, $"{entry.Where}: service {service.Name}, {variable}: '{value}' looks like a mistyped reference (write dso://… or dsofile://…); the application would get this text as is");
                }
                else if (SecretHeuristics.IsSecretName(variable) && !(variable.EndsWith("_FILE", StringComparison.Ordinal) && value.StartsWith('/')))
                {
                    yield return (false, $"{entry.Where}: service {service.Name} sets {variable} in plain text; store it with 'docker dso secret set' and write a dso:// reference instead");
                }
            }
        }
    }
}
