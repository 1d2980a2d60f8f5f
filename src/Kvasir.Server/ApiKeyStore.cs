using System.Security.Cryptography;
using System.Text;

namespace Kvasir.Server;

/// <summary>
/// The API keys the server accepts and the tenant each belongs to. Keys are kept only as SHA-256 digests and
/// compared in constant time against every key, so neither the keys nor the timing of a lookup leak.
/// </summary>
public sealed class ApiKeyStore
{
    private readonly (byte[] Digest, string Tenant)[] _keys;

    /// <summary>Creates the store from "KEY" or "KEY=TENANT" entries (see <see cref="ServerOptions.ApiKeys"/>).</summary>
    /// <exception cref="ArgumentException">An entry has an empty key.</exception>
    public ApiKeyStore(IReadOnlyList<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (Validate(entries) is { } problem)
        {
            throw new ArgumentException(problem, nameof(entries));
        }

        _keys = new (byte[], string)[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            var (key, tenant) = Split(entries[i]);
            _keys[i] = (Digest(key), tenant ?? $"key-{i + 1}");
        }
    }

    /// <summary>True when at least one key is configured (requests must then authenticate).</summary>
    public bool IsEnabled => _keys.Length > 0;

    /// <summary>Checks "KEY" / "KEY=TENANT" entries; returns an error message or null.</summary>
    public static string? Validate(IReadOnlyList<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        for (var i = 0; i < entries.Count; i++)
        {
            var (key, _) = Split(entries[i] ?? string.Empty);
            if (key.Length == 0)
            {
                return $"--api-key #{i + 1} has an empty key: give KEY or KEY=TENANT.";
            }
        }

        return null;
    }

    /// <summary>Finds the tenant of a key; false when the key is not one of the configured keys.</summary>
    public bool TryGetTenant(string key, out string tenant)
    {
        ArgumentNullException.ThrowIfNull(key);
        var digest = Digest(key);
        tenant = string.Empty;
        var found = false;
        foreach (var (candidate, name) in _keys)
        {
            // No early exit: every key is compared, so the time does not tell which one matched.
            if (CryptographicOperations.FixedTimeEquals(candidate, digest) && !found)
            {
                tenant = name;
                found = true;
            }
        }

        return found;
    }

    // KEY=TENANT splits at the last '='; an entry that ends with '=' is a key alone (base64 padding), so keys may
    // contain '=' and tenant names may not.
    private static (string Key, string? Tenant) Split(string entry)
    {
        entry = entry.Trim();
        var eq = entry.LastIndexOf('=');
        return eq < 0 || eq == entry.Length - 1 ? (entry, null) : (entry[..eq].Trim(), entry[(eq + 1)..].Trim());
    }

    private static byte[] Digest(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
