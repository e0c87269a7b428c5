using System.Security.Cryptography;
using System.Text;

namespace Bus.Gateway.Auth;

/// <summary>How keys are hashed for configuration, and how a new one is made.</summary>
public static class ApiKeyHash
{
    /// <summary>SHA-256 of the key's UTF-8 bytes. Keys are long random strings, so a plain hash is enough: there is
    /// no short password to brute-force, and per-request checks stay cheap.</summary>
    public static byte[] Of(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    public static string Hex(string key) => Convert.ToHexStringLower(Of(key));

    /// <summary>A new key: 32 random bytes, base64url, prefixed so it is recognisable in a secret scanner.</summary>
    public static string NewKey() => "bus_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A short, non-secret name of a key (the first 12 hex digits of its hash), for rate limits and logs.</summary>
    public static string Id(byte[] hash) => Convert.ToHexStringLower(hash, 0, 6);
}
