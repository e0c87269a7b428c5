namespace Bus.Gateway.Auth;

/// <summary>
/// <c>Bus.Gateway --new-api-key</c>: prints a new API key, for the client, and its hash, for the gateway's
/// configuration, then exits without starting the gateway.
/// </summary>
public static class NewKeyCommand
{
    public const string Switch = "--new-api-key";

    public static bool TryRun(string[] args, TextWriter output)
    {
        if (!args.Contains(Switch))
            return false;
        var key = ApiKeyHash.NewKey();
        output.WriteLine($"key:     {key}");
        output.WriteLine($"KeyHash: {ApiKeyHash.Hex(key)}");
        output.WriteLine("Give the key to the client; configure only the hash, e.g. Auth__ApiKeys__0__KeyHash=<hash> Auth__ApiKeys__0__Tenant=<tenant>.");
        return true;
    }
}
