using System.Diagnostics;
using StackExchange.Redis;

namespace Bus.SystemTests.Support;

/// <summary>
/// A redis-server of one test's own, on a free loopback port, without persistence (as infra/up.sh runs the shared one),
/// so the test can kill it and start it again empty without touching the Redis every other test uses.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    Process? _process;

    public int Port { get; } = RunningSystem.FreePort();

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts the server and waits until it answers PING.</summary>
    public async Task Start()
    {
        var start = new ProcessStartInfo("redis-server",
            ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.Get(async () =>
        {
            try
            {
                await using var connection = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},connectTimeout=500");
                await connection.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
        }, up => up, TimeSpan.FromSeconds(20), $"redis-server on port {Port} answering");
    }

    /// <summary>kill -9: everything it held is gone, as in a crash.</summary>
    public async Task Kill()
    {
        if (_process is null || _process.HasExited)
            return;
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Kill();
        _process?.Dispose();
    }
}
