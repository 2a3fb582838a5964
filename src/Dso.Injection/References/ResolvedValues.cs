using Dso.Secrets;

namespace Dso.Injection.References;

/// <summary>The values of a set of references, by the reference's text. Disposing zeroes them all.</summary>
internal sealed class ResolvedValues : IDisposable
{
    private readonly Dictionary<SecretReference, SecretValue> _values = [];

    public int Count => _values.Count;

    public SecretValue this[SecretReference reference] => _values[reference];

    public void Add(SecretReference reference, SecretValue value) => _values.Add(reference, value);

    public bool Contains(SecretReference reference) => _values.ContainsKey(reference);

    public void Dispose()
    {
        foreach (var value in _values.Values)
        {
            value.Dispose();
        }

        _values.Clear();
    }
}
