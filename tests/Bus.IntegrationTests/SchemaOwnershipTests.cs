using Bus.Infrastructure.Data;
using Bus.IntegrationTests.Support;

namespace Bus.IntegrationTests;

/// <summary>
/// The schema migrations have one owner, the scheduler: a gateway started first on a new database applies nothing and
/// waits (not listening) until the scheduler has applied them, then comes up by itself, so the services still start in
/// any order.
/// </summary>
public sealed class SchemaOwnershipTests : IAsyncLifetime
{
    TestDatabase _database = null!;
    TestVirtualHost _vhost = null!;
    readonly List<ServiceProcess> _services = [];
    readonly string _stateRoot = Path.Combine(Path.GetTempPath(), $"bus-schema-{Guid.NewGuid():N}");
    readonly string _keyPrefix = $"schema-{Guid.NewGuid():N}:";

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateEmpty();
        _vhost = await TestVirtualHost.Create();
    }

    [Fact]
    public async Task A_gateway_started_before_the_scheduler_waits_for_it_to_apply_the_schema()
    {
        var address = new Uri($"http://127.0.0.1:{RunningSystem.FreePort()}");
        var gateway = Start("gateway", "gateway", "Bus.Gateway", ("ASPNETCORE_URLS", address.ToString()));
        await Eventually.Get(() => Task.FromResult(gateway.Output), output => output.Contains("waiting for the scheduler to apply it") || gateway.HasExited,
            TimeSpan.FromSeconds(60), "the gateway waiting for the schema");
        Assert.False(gateway.HasExited, gateway.Output);

        // Waiting, not applying: the database is still empty, and the API does not answer yet.
        Assert.False(await new SchemaMigrator(_database.DataSource).IsApplied());
        await using (var table = _database.DataSource.CreateCommand("SELECT to_regclass('schema_migrations') IS NULL AND to_regclass('jobs') IS NULL"))
            Assert.True((bool)(await table.ExecuteScalarAsync())!);
        using var api = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAsync<HttpRequestException>(() => api.GetAsync("/health/live"));

        Start("scheduler", "scheduler", "Bus.Scheduler", ("Management__Port", RunningSystem.FreePort().ToString()));
        await Eventually.Get(async () =>
        {
            if (gateway.HasExited)
                throw new InvalidOperationException($"the gateway exited:\n{gateway.Output}");
            try { return (await api.GetAsync("/health/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, ready => ready, TimeSpan.FromSeconds(90), "the gateway ready once the scheduler applied the schema");
        Assert.True(await new SchemaMigrator(_database.DataSource).IsApplied());
    }

    ServiceProcess Start(string name, string service, string assembly, params (string Key, string Value)[] settings)
    {
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = _database.ConnectionString,
            ["ConnectionStrings__Redis"] = TestEnvironment.Redis,
            ["Redis__KeyPrefix"] = _keyPrefix,
            ["RabbitMq__Host"] = TestEnvironment.RabbitHost,
            ["RabbitMq__Port"] = TestEnvironment.RabbitPort.ToString(),
            ["RabbitMq__VirtualHost"] = _vhost.Name,
            ["RabbitMq__Username"] = TestEnvironment.RabbitUser,
            ["RabbitMq__Password"] = TestEnvironment.RabbitPassword,
            ["Catalogue__CacheFile"] = Path.Combine(_stateRoot, "catalogue-cache.json"),
        };
        foreach (var (key, value) in settings)
            environment[key] = value;
        var process = ServiceProcess.Start(name, service, assembly, environment);
        _services.Add(process);
        return process;
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
            await service.DisposeAsync();
        await _vhost.DisposeAsync();
        await _database.DisposeAsync();
        if (Directory.Exists(_stateRoot))
            Directory.Delete(_stateRoot, recursive: true);
    }
}
