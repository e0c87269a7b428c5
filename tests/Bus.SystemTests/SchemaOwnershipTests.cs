using Bus.SystemTests.Support;
using Bus.Persistence.Schema;

namespace Bus.SystemTests;

/// <summary>
/// The schema migrations have one owner, the scheduler: a gateway started first on a new database applies nothing and
/// waits (not listening) until the scheduler has applied them, then comes up by itself, so the services still start in
/// any order.
/// </summary>
public sealed class SchemaOwnershipTests
{
    [Fact]
    public async Task A_gateway_started_before_the_scheduler_waits_for_it_to_apply_the_schema()
    {
        await using var database = await TestDatabase.CreateEmpty();
        await using var vhost = await TestVirtualHost.Create();
        var catalogueCache = Path.Combine(Path.GetTempPath(), $"bus-schema-catalogue-{Guid.NewGuid():N}.json");
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database.ConnectionString,
            ["ConnectionStrings__Redis"] = TestEnvironment.Redis,
            ["Redis__KeyPrefix"] = $"schema-{Guid.NewGuid():N}:",
            ["RabbitMq__Host"] = TestEnvironment.RabbitHost,
            ["RabbitMq__Port"] = TestEnvironment.RabbitPort.ToString(),
            ["RabbitMq__VirtualHost"] = vhost.Name,
            ["RabbitMq__Username"] = TestEnvironment.RabbitUser,
            ["RabbitMq__Password"] = TestEnvironment.RabbitPassword,
            ["Catalogue__CacheFile"] = catalogueCache,
        };
        try
        {
            var address = new Uri($"http://127.0.0.1:{RunningSystem.FreePort()}");
            await using var gateway = ServiceProcess.Start("gateway", "gateway", "Bus.Gateway",
                new Dictionary<string, string>(environment) { ["ASPNETCORE_URLS"] = address.ToString() });
            await Eventually.Get(() => Task.FromResult(gateway.Output),
                output => output.Contains("waiting for the scheduler to apply it") || gateway.HasExited,
                TimeSpan.FromSeconds(60), "the gateway waiting for the schema");
            Assert.False(gateway.HasExited, gateway.Output);

            // Waiting, not applying: the database is still empty, and the API does not answer yet.
            Assert.False(await new SchemaMigrator(database.DataSource).IsApplied());
            await using (var tables = database.DataSource.CreateCommand(
                "SELECT to_regclass('schema_migrations') IS NULL AND to_regclass('jobs') IS NULL"))
                Assert.True((bool)(await tables.ExecuteScalarAsync())!);
            using var api = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            await Assert.ThrowsAsync<HttpRequestException>(() => api.GetAsync("/health/live"));

            await using var scheduler = ServiceProcess.Start("scheduler", "scheduler", "Bus.Scheduler",
                new Dictionary<string, string>(environment) { ["Management__Port"] = RunningSystem.FreePort().ToString() });
            await Eventually.Get(async () =>
            {
                if (gateway.HasExited || scheduler.HasExited)
                    throw new InvalidOperationException($"a service exited:\n{gateway.Output}\n{scheduler.Output}");
                try { return (await api.GetAsync("/health/ready")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, ready => ready, TimeSpan.FromSeconds(90), "the gateway ready once the scheduler applied the schema");
            Assert.True(await new SchemaMigrator(database.DataSource).IsApplied());
        }
        finally
        {
            File.Delete(catalogueCache);
        }
    }
}
