using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Bus.Persistence.Schema;
using Npgsql;
using StackExchange.Redis;

namespace Bus.Bench.Scale;

/// <summary>
/// The services under test, on the shared infrastructure but with a PostgreSQL database, a RabbitMQ virtual host and
/// a Redis key prefix of their own, so a run disturbs nobody else's services or tests, and nobody else's disturb its
/// numbers except through the machine. All three are made at the start and deleted at the end, with every service
/// stopped by its pid first. <c>cleanup.env</c> in the run directory names the database and virtual host until they
/// are gone, for the script to delete should this program die before it can.
/// </summary>
public sealed class IsolatedSystem : IAsyncDisposable
{
    /// <summary>The admin key of <c>services/gateway/appsettings.Development.json</c>.</summary>
    public static string AdminKey => Repository.AdminKey;

    readonly string _id = Guid.NewGuid().ToString("N")[..12];
    readonly string _runDirectory;
    readonly HttpClient _management;
    readonly List<StartedService> _services = [];
    readonly Dictionary<string, string> _environment;

    public NpgsqlDataSource Database { get; }
    string DatabaseName => $"bus_scale_{_id}";
    string VirtualHost => $"scale-{_id}";
    string KeyPrefix => $"scale-{_id}:";
    string CleanupFile => Path.Combine(_runDirectory, "cleanup.env");

    IsolatedSystem(string runDirectory)
    {
        _runDirectory = runDirectory;
        // Kept as built: a data source's ConnectionString leaves the password out, and the services need it.
        var connectionString = new NpgsqlConnectionStringBuilder(BenchEnvironment.Postgres) { Database = DatabaseName }.ConnectionString;
        Database = NpgsqlDataSource.Create(connectionString);
        _management = new HttpClient { BaseAddress = new Uri($"http://{BenchEnvironment.RabbitHost}:{BenchEnvironment.RabbitManagementPort}/api/") };
        _management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{BenchEnvironment.RabbitUser}:{BenchEnvironment.RabbitPassword}")));
        // On top of the environment .state/env gave this program: these three are what keep the run to itself.
        _environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = connectionString,
            ["RabbitMq__VirtualHost"] = VirtualHost,
            ["Redis__KeyPrefix"] = KeyPrefix,
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        };
    }

    /// <summary>Makes the database (with the project's schema), the virtual host and the prefix.</summary>
    public static async Task<IsolatedSystem> Create(string runDirectory)
    {
        var system = new IsolatedSystem(runDirectory);
        await File.WriteAllTextAsync(system.CleanupFile, $"DATABASE={system.DatabaseName}\nVHOST={system.VirtualHost}\n");
        await using (var admin = NpgsqlDataSource.Create(BenchEnvironment.Postgres))
        await using (var create = admin.CreateCommand($"CREATE DATABASE {system.DatabaseName}"))
            await create.ExecuteNonQueryAsync();
        await new SchemaMigrator(system.Database).Migrate();
        (await system._management.PutAsync($"vhosts/{system.VirtualHost}", null)).EnsureSuccessStatusCode();
        (await system._management.PutAsync($"permissions/{system.VirtualHost}/{BenchEnvironment.RabbitUser}",
            new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return system;
    }

    /// <summary>Starts <c>services/{service}/bin/{configuration}/net10.0/{assembly}.dll</c> with this run's settings plus <paramref name="settings"/>.</summary>
    public StartedService Start(string name, string service, string assembly, IEnumerable<(string Key, string Value)> settings,
        IEnumerable<string>? args = null, Action<string>? onLine = null)
    {
        var environment = new Dictionary<string, string>(_environment);
        foreach (var (key, value) in settings)
            environment[key] = value;
        var dll = Path.Combine(RepoRoot, "services", service, "bin", Configuration, "net10.0", $"{assembly}.dll");
        var started = StartedService.Start(name, dll, environment, args ?? [], _runDirectory, onLine);
        _services.Add(started);
        return started;
    }

    /// <summary>Starts the gateway on a free port and waits until it is ready; returns its address.</summary>
    public async Task<Uri> StartGateway()
    {
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var gateway = Start("gateway", "gateway", "Bus.Gateway", [("ASPNETCORE_URLS", address.ToString())]);
        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        for (var deadline = DateTime.UtcNow.AddMinutes(1); DateTime.UtcNow < deadline; await Task.Delay(250))
        {
            if (gateway.HasExited)
                throw new InvalidOperationException($"the gateway exited; see {_runDirectory}/gateway.log");
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                    return address;
            }
            catch (HttpRequestException)
            {
            }
        }
        throw new TimeoutException($"the gateway did not answer within a minute; see {_runDirectory}/gateway.log");
    }

    public async Task Stop(StartedService service)
    {
        await service.Stop(TimeSpan.FromSeconds(60));
        _services.Remove(service);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in Enumerable.Reverse(_services).ToList())
            await Stop(service);
        await _management.DeleteAsync($"vhosts/{VirtualHost}");
        _management.Dispose();
        await Database.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using (var admin = NpgsqlDataSource.Create(BenchEnvironment.Postgres))
        await using (var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS {DatabaseName} WITH (FORCE)"))
            await drop.ExecuteNonQueryAsync();
        File.Delete(CleanupFile);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(BenchEnvironment.Redis);
        var db = redis.GetDatabase();
        foreach (var server in redis.GetServers())
            await foreach (var key in server.KeysAsync(pattern: $"{KeyPrefix}*"))
                await db.KeyDeleteAsync(key);
    }

    static string RepoRoot => Repository.Root;

    /// <summary>The configuration this program was built in: the script builds the services alongside it.</summary>
    static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";


    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
