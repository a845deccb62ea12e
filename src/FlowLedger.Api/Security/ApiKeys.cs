using System.Security.Cryptography;
using System.Text;

namespace FlowLedger.Api.Security;

/// <summary>What a key may do (SPEC §10); each role includes the ones before it.</summary>
public enum Role
{
    Reader = 1,
    Writer = 2,
    Admin = 3,
}

/// <summary>One configured key: <c>FlowLedger:ApiKeys</c> holds its SHA-256, never the key itself.</summary>
public sealed class ApiKeyEntry
{
    public string Name { get; set; } = "";
    public Role Role { get; set; }
    public string Sha256 { get; set; } = "";
}

/// <summary>The configured API keys. An empty ring means open mode, allowed on loopback only.</summary>
public sealed class ApiKeyRing
{
    public const string Section = "FlowLedger:ApiKeys";

    private readonly (ApiKeyEntry Entry, byte[] Hash)[] _keys;

    public ApiKeyRing(IEnumerable<ApiKeyEntry> entries)
    {
        _keys = entries.Select(e => (e, Parse(e))).ToArray();
        var repeated = _keys.GroupBy(k => k.Entry.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null)
        {
            throw new InvalidApiKeyConfigurationException($"Two API keys are named '{repeated.Key}'; names are recorded as recordedBy and must be unique.");
        }
    }

    public static ApiKeyRing FromConfiguration(IConfiguration configuration) =>
        new(configuration.GetSection(Section).Get<List<ApiKeyEntry>>() ?? []);

    public bool IsOpen => _keys.Length == 0;

    /// <summary>
    /// The entry whose hash matches the presented key. Every entry is compared, each in constant
    /// time, so the answer's timing says nothing about how close a guess came.
    /// </summary>
    public ApiKeyEntry? Find(string presentedKey)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presentedKey));
        ApiKeyEntry? found = null;
        foreach (var (entry, expected) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                found = entry;
            }
        }
        return found;
    }

    /// <summary>A new key of 256 random bits and the hash to configure for it.</summary>
    public static (string Key, string Sha256) Generate()
    {
        var key = "flk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (key, HashOf(key));
    }

    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static byte[] Parse(ApiKeyEntry entry)
    {
        if (string.IsNullOrWhiteSpace(entry.Name))
        {
            throw new InvalidApiKeyConfigurationException($"An entry of {Section} has no Name.");
        }
        if (!Enum.IsDefined(entry.Role))
        {
            throw new InvalidApiKeyConfigurationException($"API key '{entry.Name}' needs a Role: reader, writer or admin.");
        }
        if (entry.Sha256.Length != 64 || !entry.Sha256.All(Uri.IsHexDigit))
        {
            throw new InvalidApiKeyConfigurationException(
                $"API key '{entry.Name}' needs Sha256, the 64 hex digits of the SHA-256 of the key (`keys add` prints it).");
        }
        return Convert.FromHexString(entry.Sha256);
    }
}

/// <summary>The key configuration cannot be used; the app refuses to start rather than guess.</summary>
public sealed class InvalidApiKeyConfigurationException(string message) : Exception(message);
