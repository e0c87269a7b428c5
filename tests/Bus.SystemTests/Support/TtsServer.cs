using System.Net.Http.Json;

namespace Bus.SystemTests.Support;

/// <summary>
/// The sample speech server (samples/tts-server) as a real process on a free port, running the real espeak-ng, with its
/// own results folder. <see cref="Start"/> may limit the languages it serves (none given: all espeak-ng has).
/// </summary>
public sealed class TtsServer : IAsyncDisposable
{
    readonly ServiceProcess _process;

    TtsServer(ServiceProcess process, Uri address, string results) => (_process, Address, ResultsDirectory) = (process, address, results);

    public Uri Address { get; }
    public string ResultsDirectory { get; }

    /// <summary>The endpoint a worker's <c>Worker:Http:Services:tts:Url</c> points at.</summary>
    public string SynthesizeUrl => new Uri(Address, "/synthesize").ToString();

    public string Output => _process.Output;

    public static async Task<TtsServer> Start(string name, params string[] languages)
    {
        var address = new Uri($"http://127.0.0.1:{RunningSystem.FreePort()}");
        var results = Path.Combine(Path.GetTempPath(), $"bus-tts-test-{Guid.NewGuid():N}");
        var environment = new Dictionary<string, string> { ["Urls"] = address.ToString(), ["Tts__ResultsDirectory"] = results };
        for (var i = 0; i < languages.Length; i++)
            environment[$"Tts__Languages__{i}"] = languages[i];
        var server = new TtsServer(ServiceProcess.StartBuilt(name, Path.Combine("samples", "tts-server"), "Bus.TtsServer", environment), address, results);
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.Get(async () =>
        {
            if (server._process.HasExited)
                throw new InvalidOperationException($"{name} exited:\n{server.Output}");
            try { return await client.GetFromJsonAsync<string[]>("/languages") ?? []; }
            catch (HttpRequestException) { return []; }
            catch (TaskCanceledException) { return []; } // a loaded machine: ask again until the deadline
        }, served => served.Length > 0, TimeSpan.FromSeconds(60), $"{name} answering");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        if (Directory.Exists(ResultsDirectory))
            Directory.Delete(ResultsDirectory, recursive: true);
    }
}
