using System.Text.Json;

namespace Bus.Cli;

/// <summary>
/// Where the API is and which key to use. The environment wins over the config file, so a one-off
/// <c>BUS_API_KEY=... bus-cli list</c> works without editing anything.
/// </summary>
/// <param name="Url">The gateway's base address: <c>BUS_URL</c>, else the file's <c>url</c>, else http://127.0.0.1:8080.</param>
/// <param name="ApiKey">The API key: <c>BUS_API_KEY</c>, else the file's <c>apiKey</c>.</param>
public sealed record CliSettings(Uri Url, string? ApiKey)
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>The config file: <c>BUS_CONFIG</c>, else <c>~/.config/bus/cli.json</c>.</summary>
    public static string ConfigFile =>
        Environment.GetEnvironmentVariable("BUS_CONFIG") is { Length: > 0 } path
            ? path
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "bus", "cli.json");

    public static CliSettings Load()
    {
        var file = ReadFile(ConfigFile);
        var url = Environment.GetEnvironmentVariable("BUS_URL") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : file?.Url ?? DefaultUrl;
        var key = Environment.GetEnvironmentVariable("BUS_API_KEY") is { Length: > 0 } keyFromEnvironment
            ? keyFromEnvironment
            : file?.ApiKey;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException($"'{url}' is not an http(s) URL; set BUS_URL or 'url' in {ConfigFile}.");
        return new CliSettings(uri, key);
    }

    sealed record FileSettings(string? Url, string? ApiKey);

    static FileSettings? ReadFile(string path)
    {
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize<FileSettings>(File.ReadAllText(path), Api.Json);
        }
        catch (JsonException e)
        {
            throw new CliException($"{path} is not valid JSON: {e.Message}");
        }
    }
}
